package sandbox

import "github.com/idverify/idverify/shared/faceid"

// NFC reading of an ID card's chip. GetNFCToken issues a token the NFC SDK
// uses; GetWxNFCResult takes the token back within ten minutes and returns
// what the chip held. ParseNfcData takes a ReqId that the SDK itself makes,
// so the sandbox accepts any ReqId. In both, MagicNFCToken(1) stands for a
// failed read (ResultCode -1, not billed).
//
// Error code: an unknown or expired NFCToken is
// FailedOperation.InvalidTokenParameter ("Token不存在"), the only token
// error GetWxNFCResult documents.

func getNFCToken(p *Provider, c *call, r *faceid.GetNFCTokenRequest) (any, error) {
	return &faceid.GetNFCTokenResponse{Token: str(c.issue(kindNFC, 0, noIntention, 0))}, nil
}

// chip is what the sandbox's NFC reader finds on the fixture card.
type chip struct {
	IdNum, Name, Picture, BirthDate, BeginTime, EndTime, Address, Nation, Sex               string
	IdType, EnName, SigningOrganization, OtherIdNum, Nationality, PersonalNumber, CheckMRTD string
}

func fixtureChip() chip {
	who := happyPerson
	return chip{
		IdNum: who.IDCard, Name: who.Name, Picture: jpegBase64, BirthDate: birthCompact(who.IDCard),
		BeginTime: fixtureValidFrom, EndTime: fixtureValidTo, Address: fixtureAddress, Nation: fixtureNation,
		Sex: sex(who.IDCard), IdType: "01", EnName: fixtureEnName, SigningOrganization: fixtureAuthority,
		// Fields of permits and travel documents, empty for a resident ID card.
		OtherIdNum: "", Nationality: "", PersonalNumber: "",
		// Every check passed (0); see the CheckMRTD documentation.
		CheckMRTD: `{"result_issuer":"0","result_paper":"0","result_data":"0","result_chip":"0"}`,
	}
}

func getWxNFCResult(p *Provider, c *call, r *faceid.GetWxNFCResultRequest) (any, error) {
	if c.index > 0 {
		return &faceid.GetWxNFCResultResponse{ResultCode: str(c.outcome.Code)}, nil
	}
	const code = "FailedOperation.InvalidTokenParameter"
	if _, err := c.redeem(deref(r.NFCToken), nfcTTL, code, code, kindNFC); err != nil {
		return nil, err
	}
	k := fixtureChip()
	return &faceid.GetWxNFCResultResponse{
		ResultCode: str(c.outcome.Code), IdNum: str(k.IdNum), Name: str(k.Name), Picture: str(k.Picture),
		IdCardFrontImg: str(jpegBase64), IdCardBackImg: str(jpegBase64), BirthDate: str(k.BirthDate),
		BeginTime: str(k.BeginTime), EndTime: str(k.EndTime), Address: str(k.Address), Nation: str(k.Nation),
		Sex: str(k.Sex), IdType: str(k.IdType), EnName: str(k.EnName), SigningOrganization: str(k.SigningOrganization),
		OtherIdNum: str(k.OtherIdNum), Nationality: str(k.Nationality), PersonalNumber: str(k.PersonalNumber),
		CheckMRTD: str(k.CheckMRTD),
	}, nil
}

func parseNfcData(p *Provider, c *call, r *faceid.ParseNfcDataRequest) (any, error) {
	o := c.outcome
	if o.Code != "0" {
		return &faceid.ParseNfcDataResponse{ResultCode: str(o.Code), ResultDescription: str(o.Description)}, nil
	}
	k := fixtureChip()
	return &faceid.ParseNfcDataResponse{
		ResultCode: str(o.Code), IdNum: str(k.IdNum), Name: str(k.Name), Picture: str(k.Picture),
		BirthDate: str(k.BirthDate), BeginTime: str(k.BeginTime), EndTime: str(k.EndTime), Address: str(k.Address),
		Nation: str(k.Nation), Sex: str(k.Sex), IdType: str(k.IdType), EnName: str(k.EnName),
		SigningOrganization: str(k.SigningOrganization), OtherIdNum: str(k.OtherIdNum), Nationality: str(k.Nationality),
		PersonalNumber: str(k.PersonalNumber), CheckMRTD: str(k.CheckMRTD), ImageA: str(jpegBase64), ImageB: str(jpegBase64),
		ResultDescription: str(o.Description),
	}, nil
}
