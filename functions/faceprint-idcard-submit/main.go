// Command faceprint-idcard-submit serves Baidu's H5 face real-name endpoint
// POST /rpc/2.0/brain/solution/faceprint/idcard/submit on whichever runtime it finds
// (AWS Lambda, Tencent SCF, or a local HTTP server).
package main

import "github.com/idverify/idverify/shared/faceprint"

func main() { faceprint.Main("idcard/submit") }
