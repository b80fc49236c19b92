package main

import (
	"slices"

	"github.com/idverify/idverify/shared/app"
)

// The wiring's optional settings in the deploy files (app.DeploySettings:
// FaceID's sensitive-data encryption, per-person limits, budgets, usage).
// Each function gets those it reads: the encryption settings the functions
// serving FaceID actions, the eID key GetEidResult's (and the flows
// function, which serves every action), the rest every function. Every one
// is empty unless the deployer sets it, and empty is the function's
// default.

// deploySettings are app.DeploySettings; a variable so the tests can see
// the generator's view.
var deploySettings = app.DeploySettings

// servesFaceID says whether a function serves FaceID actions: the FaceID
// functions and the flows function (functions/all).
func (a deployAction) servesFaceID() bool { return a.flows || a.route == "" }

// reads says whether function a reads setting s.
func (a deployAction) reads(s app.DeploySetting) bool {
	switch {
	case !s.FaceID:
		return true
	case !a.servesFaceID():
		return false
	case len(s.Actions) == 0 || a.flows:
		return true
	}
	return slices.Contains(s.Actions, a.action)
}

// settingsEverywhere are the settings every function reads: the deploy
// files' global environment.
func settingsEverywhere() []app.DeploySetting {
	var out []app.DeploySetting
	for _, s := range deploySettings {
		if !s.FaceID {
			out = append(out, s)
		}
	}
	return out
}

// settingsOfFaceID are the settings every FaceID function reads and no
// other function: serverless.yml's common environment has them (most
// functions serve FaceID), the catalog functions' own lists do not.
func settingsOfFaceID() []app.DeploySetting {
	var out []app.DeploySetting
	for _, s := range deploySettings {
		if s.FaceID && len(s.Actions) == 0 {
			out = append(out, s)
		}
	}
	return out
}

// settingsOfActions are the settings only functions serving some FaceID
// actions read that a reads (the eID key on GetEidResult's function).
func (a deployAction) settingsOfActions() []app.DeploySetting {
	var out []app.DeploySetting
	for _, s := range deploySettings {
		if len(s.Actions) > 0 && a.reads(s) {
			out = append(out, s)
		}
	}
	return out
}

// samSettingsParams are the settings' stack parameters: a secret one takes
// only a reference (refParam), a plain one any text; both default to "",
// which the function reads as unset.
func samSettingsParams(refParam func(string) omap) omap {
	out := omap{}
	for _, s := range deploySettings {
		desc := s.Name + ": " + s.Doc + "."
		if s.Secret {
			// Optional, unlike the provider keys' reference parameters: a
			// stack created without it gets "" (the function's default).
			p := refParam(s.Name + " as a reference, e.g. " + awsRefExample(s.Example) + ": " + s.Doc + ".")
			out = append(out, kv{envParam(s.EnvVar), append(omap{p[0], {"Default", ""}}, p[1:]...)})
			continue
		}
		if s.Example != "" {
			desc += " E.g. " + s.Example
		}
		out = append(out, kv{envParam(s.EnvVar), omap{{"Type", "String"}, {"Default", ""}, {"Description", desc}}})
	}
	return out
}

// globalSettingsEnv are the Globals variables of the settings every
// function reads.
func globalSettingsEnv() omap {
	out := omap{}
	for _, s := range settingsEverywhere() {
		out = append(out, kv{s.Name, ref(envParam(s.EnvVar))})
	}
	return out
}

// samSettingsEnv are the variables of a function's own environment that
// feed it settings (the global ones are in Globals).
func samSettingsEnv(a deployAction) omap {
	out := omap{}
	for _, s := range deploySettings {
		if s.FaceID && a.reads(s) {
			out = append(out, kv{s.Name, ref(envParam(s.EnvVar))})
		}
	}
	return out
}

// scfSetting is one setting in serverless.yml: ${env:NAME}, or
// ${env:NAME_REF} for a secret (a tckms:/tcssm: reference).
func scfSetting(s app.DeploySetting) omap {
	v := "${env:" + s.Name + "}"
	if s.Secret {
		v = "${env:" + s.Name + "_REF}"
	}
	return omap{{"key", s.Name}, {"value", v}}
}
