package sandbox

import (
	"fmt"
	"strconv"
	"time"

	"github.com/idverify/idverify/shared/faceid"
)

// GetWeChatBillDetails pages through a fixed, made-up bill for any past
// date: billsPerDay records, billPage per page, so a caller's paging loop
// (Cursor 0, then NextCursor while HasNextPage) can be exercised. Every
// fifth record was retried once: two charge details, the first a billed
// 2016 (比对相似度未达到通过标准). The bill does not list the flows this
// sandbox ran; it only has their shape.
const (
	billsPerDay = 25
	billPage    = 10
)

func getWeChatBillDetails(p *Provider, c *call, r *faceid.GetWeChatBillDetailsRequest) (any, error) {
	day, err := time.ParseInLocation("2006-01-02", deref(r.Date), chinaTime)
	if err != nil {
		return nil, c.failCode("InvalidParameter", "Date must be a date written YYYY-MM-DD")
	}
	now := c.now.In(chinaTime)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, chinaTime)
	if day.Before(today.AddDate(0, 0, -365)) {
		return nil, c.failCode("InvalidParameter", "Date is more than 365 days ago")
	}
	resp := &faceid.GetWeChatBillDetailsResponse{HasNextPage: boolp(false), NextCursor: i64(0), WeChatBillDetails: []*faceid.WeChatBillDetail{}}
	// Yesterday's bill is ready after 06:00 China time; today's is not.
	ready := !now.Before(today.Add(6 * time.Hour))
	if !day.Before(today) || (day.Equal(today.AddDate(0, 0, -1)) && !ready) {
		return resp, nil
	}
	cursor := deref64(r.Cursor)
	if cursor < 0 || cursor >= billsPerDay {
		return resp, nil
	}
	end := min(cursor+billPage, billsPerDay)
	for k := cursor; k < end; k++ {
		resp.WeChatBillDetails = append(resp.WeChatBillDetails, billRecord(day, int(k), r.RuleId))
	}
	resp.HasNextPage, resp.NextCursor = boolp(end < billsPerDay), i64(end)
	return resp, nil
}

func billRecord(day time.Time, k int, ruleID *string) *faceid.WeChatBillDetail {
	rule := strconv.Itoa(k % 2)
	if ruleID != nil && *ruleID != "" {
		rule = *ruleID
	}
	at := day.Add(9*time.Hour + time.Duration(k)*17*time.Minute)
	detail := func(n int, code, msg string) *faceid.ChargeDetail {
		return &faceid.ChargeDetail{
			ReqTime: str(strconv.FormatInt(at.Add(time.Duration(n)*time.Minute).UnixMilli(), 10)),
			Seq:     str(fmt.Sprintf("sandbox-seq-bill-%s-%03d-%d", day.Format("20060102"), k, n)),
			IdCard:  str(maskID(HappyIDCard)), Idcard: str(maskID(HappyIDCard)), Name: str(maskName(HappyName)),
			Sim: str(map[bool]string{true: "95.50", false: "45.20"}[code == "0"]), IsNeedCharge: boolp(true),
			ChargeType: str("核身"), ErrorCode: str(code), ErrorMessage: str(msg),
		}
	}
	rec := &faceid.WeChatBillDetail{BizToken: str(fmt.Sprintf("sandbox-bill-%s-%03d", day.Format("20060102"), k)), RuleId: str(rule)}
	if k%5 == 0 {
		rec.ChargeDetails = append(rec.ChargeDetails, detail(0, "2016", "比对相似度未达到通过标准"))
	}
	rec.ChargeDetails = append(rec.ChargeDetails, detail(len(rec.ChargeDetails), "0", "成功"))
	rec.ChargeCount = i64(int64(len(rec.ChargeDetails)))
	return rec
}
