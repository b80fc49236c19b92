// Command face-adv serves POST /tech/ai/face/faceAdv (seed 002, enhanced
// face verification) on whichever runtime it finds.
package main

import "github.com/idverify/idverify/shared/faceadv"

func main() { faceadv.Main("faceAdv") }
