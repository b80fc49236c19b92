// Command faceprint-result-getall serves Baidu's H5 face real-name endpoint
// POST /rpc/2.0/brain/solution/faceprint/result/getall on whichever runtime it finds
// (AWS Lambda, Tencent SCF, or a local HTTP server).
package main

import "github.com/idverify/idverify/shared/faceprint"

func main() { faceprint.Main("result/getall") }
