package sandbox

import (
	"strconv"

	"github.com/idverify/idverify/shared/faceid"
)

// Element checks: an identity's elements (name, ID number, phone, card,
// validity dates) against the authority's records. Each answers a result
// code and its description; a few add a detail field.

// verdict answers an action whose response is only Result and Description.
func verdict[Resp any](c *call) (any, error) {
	r := new(Resp)
	setString(r, "Result", c.outcome.Code)
	setString(r, "Description", c.outcome.Description)
	return r, nil
}

func idCardVerification(p *Provider, c *call, r *faceid.IdCardVerificationRequest) (any, error) {
	return verdict[faceid.IdCardVerificationResponse](c)
}

func checkIdNameDate(p *Provider, c *call, r *faceid.CheckIdNameDateRequest) (any, error) {
	return verdict[faceid.CheckIdNameDateResponse](c)
}

func checkPhoneAndName(p *Provider, c *call, r *faceid.CheckPhoneAndNameRequest) (any, error) {
	return verdict[faceid.CheckPhoneAndNameResponse](c)
}

func bankCard2EVerification(p *Provider, c *call, r *faceid.BankCard2EVerificationRequest) (any, error) {
	return verdict[faceid.BankCard2EVerificationResponse](c)
}

func bankCardVerification(p *Provider, c *call, r *faceid.BankCardVerificationRequest) (any, error) {
	return verdict[faceid.BankCardVerificationResponse](c)
}

func bankCard4EVerification(p *Provider, c *call, r *faceid.BankCard4EVerificationRequest) (any, error) {
	return verdict[faceid.BankCard4EVerificationResponse](c)
}

func checkBankCardInformation(p *Provider, c *call, r *faceid.CheckBankCardInformationRequest) (any, error) {
	o := c.outcome
	resp := &faceid.CheckBankCardInformationResponse{Result: str(o.Code), Description: str(o.Description)}
	if o.Code == "0" {
		// An encrypted card number cannot be read, so its bank is unknown.
		if encrypted(r, "BankCard") {
			resp.AccountBank = str("示例银行")
		} else {
			resp.AccountBank = str(bankOf(deref(r.BankCard)))
		}
		resp.AccountType = i64(1) // 借记卡
	}
	return resp, nil
}

func mobileStatus(p *Provider, c *call, r *faceid.MobileStatusRequest) (any, error) {
	o := c.outcome
	resp := &faceid.MobileStatusResponse{Result: str(o.Code), Description: str(o.Description)}
	if o.Code == "0" {
		n, _ := strconv.ParseInt(variant(c.action, o), 10, 64)
		resp.StatusCode = i64(n)
	}
	return resp, nil
}

func mobileNetworkTimeVerification(p *Provider, c *call, r *faceid.MobileNetworkTimeVerificationRequest) (any, error) {
	o := c.outcome
	resp := &faceid.MobileNetworkTimeVerificationResponse{Result: str(o.Code), Description: str(o.Description)}
	if o.Code == "0" {
		resp.Range = str(variant(c.action, o))
	}
	return resp, nil
}

func minorsVerification(p *Provider, c *call, r *faceid.MinorsVerificationRequest) (any, error) {
	o := c.outcome
	resp := &faceid.MinorsVerificationResponse{Result: str(o.Code), Description: str(o.Description)}
	if v := variant(c.action, o); v != "" {
		resp.AgeRange = str(v)
	}
	return resp, nil
}

func phoneVerification(p *Provider, c *call, r *faceid.PhoneVerificationRequest) (any, error) {
	o := c.outcome
	resp := &faceid.PhoneVerificationResponse{Result: str(o.Code), Description: str(o.Description)}
	if !o.Local && !encrypted(r, "Phone") {
		resp.Isp = str(isp(deref(r.Phone)))
	} else {
		resp.Isp = str("")
	}
	// ResultDetail comes only with the detailed mode (VerifyMode 1) and
	// only for -4 三要素信息不一致.
	if deref(r.VerifyMode) == "1" && o.Code == "-4" {
		resp.ResultDetail = str(variant(c.action, o))
	}
	return resp, nil
}

// The carrier-specific actions always report their own carrier.
func phoneVerificationCMCC(p *Provider, c *call, r *faceid.PhoneVerificationCMCCRequest) (any, error) {
	return &faceid.PhoneVerificationCMCCResponse{Result: str(c.outcome.Code), Isp: str("移动"), Description: str(c.outcome.Description)}, nil
}

func phoneVerificationCTCC(p *Provider, c *call, r *faceid.PhoneVerificationCTCCRequest) (any, error) {
	return &faceid.PhoneVerificationCTCCResponse{Result: str(c.outcome.Code), Isp: str("电信"), Description: str(c.outcome.Description)}, nil
}

func phoneVerificationCUCC(p *Provider, c *call, r *faceid.PhoneVerificationCUCCRequest) (any, error) {
	return &faceid.PhoneVerificationCUCCResponse{Result: str(c.outcome.Code), Isp: str("联通"), Description: str(c.outcome.Description)}, nil
}

func encryptedPhoneVerification(p *Provider, c *call, r *faceid.EncryptedPhoneVerificationRequest) (any, error) {
	o := c.outcome
	resp := &faceid.EncryptedPhoneVerificationResponse{Result: str(o.Code), Description: str(o.Description), ISP: str("")}
	// The carrier can be named only from a plaintext number (mode 0).
	if deref(r.EncryptionMode) == "0" && !o.Local {
		resp.ISP = str(isp(deref(r.Phone)))
	}
	return resp, nil
}

// idCardOCRVerification checks either the typed identity or, when none is
// given, the identity "read" from the ID card photo: the sandbox's OCR
// always reads the fixture card (张三), and a MagicMedia photo selects the
// outcome as a magic IdCard would.
func idCardOCRVerification(p *Provider, c *call, r *faceid.IdCardOCRVerificationRequest) (any, error) {
	o := c.outcome
	resp := &faceid.IdCardOCRVerificationResponse{Result: str(o.Code), Description: str(o.Description), Warnings: str("")}
	typed := r.IdCard != nil && r.Name != nil
	who := happyPerson
	if typed {
		who = person{Name: *r.Name, IDCard: *r.IdCard}
	}
	resp.Name, resp.IdCard = str(who.Name), str(who.IDCard)
	if o.Local {
		return resp, nil
	}
	if !encrypted(r, "IdCard") {
		resp.Sex, resp.Birth = str(sex(who.IDCard)), str(birth(who.IDCard))
	}
	if !typed {
		// Only a photo yields what is printed on the card.
		resp.Nation, resp.Address = str(fixtureNation), str(fixtureAddress)
		resp.Portrait, resp.Quality = str(jpegBase64), f64(92)
	}
	return resp, nil
}
