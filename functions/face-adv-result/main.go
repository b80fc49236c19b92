// Command face-adv-result serves POST /tech/ai/face/faceAdvResult (seed
// 002, enhanced face verification) on whichever runtime it finds.
package main

import "github.com/idverify/idverify/shared/faceadv"

func main() { faceadv.Main("faceAdvResult") }
