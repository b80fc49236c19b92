// Command faceprint-result-media-query serves Baidu's H5 face real-name endpoint
// POST /rpc/2.0/brain/solution/faceprint/result/media/query on whichever runtime it finds
// (AWS Lambda, Tencent SCF, or a local HTTP server).
package main

import "github.com/idverify/idverify/shared/faceprint"

func main() { faceprint.Main("result/media/query") }
