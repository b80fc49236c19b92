// Command fakegen writes the recorded responses of the fake FaceID server,
// tests/fakes/faceid/testdata/responses/<Action>.json, from the FaceID spec.
//
// Each file is a full wire body {"Response": {...}} in which every response
// field of the spec is populated (nested structs and arrays too) with a
// deterministic, plausible value, followed by one field the spec does not know
// ("FutureField") so tests can prove that nothing is dropped. The files are
// plain JSON and may be hand-edited or replaced by real captures; the fake's
// tests check that every spec field stays present.
//
//	go run ./scripts/fakegen            (from the repository root)
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
)

type field struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

type spec struct {
	Actions []struct {
		Action   string  `json:"action"`
		Response []field `json:"response"`
	} `json:"actions"`
	Structs map[string]struct {
		Fields []field `json:"fields"`
	} `json:"structs"`
}

func main() {
	specPath := flag.String("spec", "shared/faceid/spec/faceid-2018-03-01.json", "FaceID spec")
	out := flag.String("out", "tests/fakes/faceid/testdata/responses", "output directory")
	flag.Parse()

	var s spec
	// The spec and its supplement (the actions Tencent's node SDK no longer
	// declares), as scripts/gen merges them.
	for _, path := range []string{*specPath, strings.TrimSuffix(*specPath, ".json") + ".supplement.json"} {
		raw, err := os.ReadFile(path)
		if os.IsNotExist(err) && path != *specPath {
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		var part spec
		if err := json.Unmarshal(raw, &part); err != nil {
			log.Fatalf("%s: %v", path, err)
		}
		s.Actions = append(s.Actions, part.Actions...)
		for n, st := range part.Structs {
			if s.Structs == nil {
				s.Structs = part.Structs
				break
			}
			s.Structs[n] = st
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for _, a := range s.Actions {
		g := gen{spec: &s, action: a.Action}
		resp := g.object(a.Response)
		resp = append(resp, kv{"FutureField", futureField})
		body, err := encode(object{{"Response", resp}})
		if err != nil {
			log.Fatalf("%s: %v", a.Action, err)
		}
		if err := os.WriteFile(filepath.Join(*out, a.Action+".json"), body, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("wrote %d recordings to %s\n", len(s.Actions), *out)
}

// futureField is unknown to the spec. Its BigNumber (2^53+1) cannot survive a
// round trip through float64, so it also proves numbers are passed verbatim.
var futureField = object{
	{"Note", "not in FaceID 2018-03-01; clients must pass it through"},
	{"BigNumber", json.Number("9007199254740993")},
	{"Items", []any{object{{"Flag", true}}}},
}

type gen struct {
	spec   *spec
	action string
}

func (g gen) object(fields []field) object {
	o := make(object, 0, len(fields))
	for _, f := range fields {
		o = append(o, kv{f.Name, g.value(f.Name, f.Type)})
	}
	return o
}

func (g gen) value(name, typ string) any {
	if elem, ok := strings.CutPrefix(typ, "Array<"); ok {
		return []any{g.value(name, strings.TrimSuffix(elem, ">"))}
	}
	switch typ {
	case "string":
		return g.str(name)
	case "number", "number | bigint":
		return number(name)
	case "boolean":
		return true
	}
	st, ok := g.spec.Structs[typ]
	if !ok {
		log.Fatalf("%s.%s: unknown type %q", g.action, name, typ)
	}
	return g.object(st.Fields)
}

// Minimal synthetic media: the magic bytes of a JPEG, an MP4 and an MP3.
const (
	jpegB64 = "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAA=="
	mp4B64  = "AAAAIGZ0eXBpc29tAAACAGlzb21pc28yYXZjMW1wNDE="
	mp3B64  = "SUQzBAAAAAAAI1RTU0UAAAAPAAADTGF2ZjU4Ljc2LjEwMAAAAAAAAAAAAAAA"
)

// strs holds plausible values by field name; the data are synthetic.
var strs = map[string]string{
	"Result": "0", "ResultCode": "0", "FinalResultCode": "0", "Status": "1",
	"Description": "认证通过", "ResultDescription": "成功", "ErrMsg": "成功", "Errmsg": "成功",
	"LiveMsg": "成功", "Livemsg": "成功", "Comparemsg": "成功", "FinalResultMessage": "成功",
	"ErrorMessage": "成功", "Name": "张三", "OcrName": "张三", "EnName": "ZHANG SAN",
	"IdCard": "110101199003071234", "Idcard": "110101199003071234", "IdNum": "110101199003071234",
	"OcrIdCard": "110101199003071234", "OtherIdNum": "H01234567", "PersonalNumber": "110101199003071234",
	"PassNo": "E12345678", "VisaNum": "V1234567",
	"Sex": "男", "OcrGender": "男", "Nation": "汉", "OcrNation": "汉", "Nationality": "CHN",
	"Birth": "1990/3/7", "OcrBirth": "1990/3/7", "BirthDate": "19900307",
	"BeginTime": "20200101", "EndTime": "20400101", "OcrValidDate": "2020.01.01-2040.01.01",
	"Address": "北京市东城区示例路1号", "OcrAddress": "北京市东城区示例路1号",
	"OcrAuthority": "北京市公安局东城分局", "SigningOrganization": "北京市公安局东城分局",
	"IdType": "ID", "CheckMRTD": "0", "UseIDType": "0", "IdInfoFrom": "OCR",
	"Mobile": "13800000000", "Isp": "移动", "ISP": "移动", "AccountBank": "招商银行",
	"AgeRange": "[18,25)", "Range": "(24,+)", "ResultDetail": "Mobile:认证通过",
	"Url": "https://faceid.qq.com/api/l/index.html?token=fake", "Location": "广东省深圳市",
	"Sim": "92.50", "ReqTime": "1700000000000", "Seq": "seq-0001",
	"ChargeType": "NUMBER", "ErrorCode": "0", "CompareLibType": "公安商业库",
	"Algorithm": "AES-256-CBC", "CiphertextBlob": "ZmFrZS1jaXBoZXJ0ZXh0LWJsb2I=", "Iv": "MTIzNDU2Nzg5MGFiY2RlZg==",
	"EncryptList": "EncryptedBody", "TagList": "tag-0001", "EncryptedBody": "ZmFrZS1lbmNyeXB0ZWQtYm9keQ==",
	"AttackRiskLevel": "Low", "Type": "SuspectedSpoofingAttack", "HitGroup": "group-0001",
	"HitTemplate": "template-0001", "DeviceInfoLevel": "1", "DeviceInfoTag": "01", "RiskInfoTag": "02",
	"LivenessInfoTag": "03", "CameraInfoTag": "04", "OpenId": "oFakeOpenId0001",
	"Extra": "extra-0001", "ClientConfig": "{}", "RuleId": "1", "IntentionVerifyType": "0",
	"AsrResult": "本人自愿办理", "AsrResultSimilarity": "0.95", "ActionSequence": "1,2",
	"LiveCode": "1234", "DetectInfo": "{}", "EidCode": "eid-code-0001", "EidSign": "eid-sign-0001",
	"DesKey": "ZmFrZS1kZXMta2V5", "UserInfo": "ZmFrZS11c2VyLWluZm8=", "LivenessActionSequence": "1,2",
	"NFCRequestIds": "nfc-0001", "Warnings": "0",
}

func (g gen) str(name string) string {
	switch {
	case name == "RequestId":
		return uuid("request/" + g.action)
	case strings.HasSuffix(name, "Token"):
		return uuid("token/" + g.action + "/" + name)
	case strings.Contains(name, "Video"):
		return mp4B64
	case strings.Contains(name, "Audio"):
		return mp3B64
	case strings.Contains(name, "Frame"), strings.Contains(name, "Image"), strings.Contains(name, "Img"),
		strings.Contains(name, "Base64"), name == "Portrait", name == "Picture", name == "Avatar",
		name == "ScreenShot", name == "OcrFront", name == "OcrBack":
		return jpegB64
	}
	if v, ok := strs[name]; ok {
		return v
	}
	return "fake-" + name
}

// numbers holds plausible values by field name; fractional ones prove that
// decimals survive.
var numbers = map[string]json.Number{
	"Sim": "92.5", "Similarity": "92.5", "SimilarityScore": "88.75", "Quality": "88",
	"AccountType": "1", "StatusCode": "0", "NextCursor": "2", "DeviceInfoLevel": "1",
	"CameraInfoLevel": "1", "Errcode": "0", "ErrCode": "0", "Livestatus": "0", "LiveStatus": "0",
	"Comparestatus": "0", "LivenessMode": "1", "NFCBillingCounts": "1", "ChargeCount": "1",
	"FinalResultDetailCode": "0", "ErrorCode": "0", "WarnInfos": "-9101", "BackWarnInfos": "-9102",
	"UseIDType": "0",
}

func number(name string) json.Number {
	if v, ok := numbers[name]; ok {
		return v
	}
	return "1"
}

// uuid is a deterministic, UUID-shaped id derived from seed.
func uuid(seed string) string {
	h := sha256.Sum256([]byte(seed))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// object is a JSON object that keeps the spec's field order, so the files
// read like the documentation.
type object []kv

type kv struct {
	Key   string
	Value any
}

func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.Key)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(f.Value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// encode indents and keeps "<", ">" and "&" literal, as Tencent sends them.
func encode(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return bytes.ReplaceAll(bytes.ReplaceAll(bytes.ReplaceAll(b.Bytes(),
		[]byte(`\u003c`), []byte("<")), []byte(`\u003e`), []byte(">")), []byte(`\u0026`), []byte("&")), nil
}
