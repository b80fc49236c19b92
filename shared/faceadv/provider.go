package faceadv

import (
	"context"

	"github.com/idverify/idverify/shared/webank"
)

// startInput is a validated faceAdv with its photo in hand.
type startInput struct {
	OrderNo, UserID, Name, IDNo, Photo string
}

// provider answers the two actions: WeBank (live) or the sandbox.
type provider interface {
	start(ctx context.Context, in startInput) (*AdvResult, error)
	record(ctx context.Context, orderNo, getFile string) (*RecordResult, error)
}

// live is WeBank.
type live struct{ c *webank.Client }

func (l live) start(ctx context.Context, in startInput) (*AdvResult, error) {
	res, err := l.c.GetAdvFaceID(ctx, webank.AdvFaceIDInput{
		OrderNo: in.OrderNo, UserID: in.UserID, Name: in.Name, IDNo: in.IDNo, SourcePhoto: in.Photo,
	})
	if err != nil {
		return nil, err
	}
	// The launch sign needs a NONCE ticket of its own: single use, 120 s.
	ls, err := l.c.NewLaunchSign(ctx, in.UserID)
	if err != nil {
		return nil, err
	}
	return &AdvResult{BizSeqNo: res.BizSeqNo, OrderNo: in.OrderNo, FaceID: res.FaceID,
		Sign: ls.Sign, Nonce: ls.Nonce, AppID: ls.AppID, Version: ls.Version}, nil
}

func (l live) record(ctx context.Context, orderNo, getFile string) (*RecordResult, error) {
	r, err := l.c.QueryFaceRecord(ctx, orderNo, getFile)
	if err != nil {
		return nil, err
	}
	return &RecordResult{
		TencentCode: r.Code, TencentMsg: r.Msg, BizSeqNo: r.BizSeqNo, TransactionTime: r.TransactionTime,
		OrderNo: r.OrderNo, OccurredTime: r.OccurredTime, LiveRate: r.LiveRate, Similarity: r.Similarity,
		Photo: r.Photo, Video: r.Video, SdkVersion: r.SdkVersion, TrtcFlag: r.TrtcFlag, AppID: r.AppID,
	}, nil
}
