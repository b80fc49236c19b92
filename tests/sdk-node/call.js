// Calls one FaceID action on a local idverify server through the official
// Tencent Cloud Node SDK and prints {"response": ...} or {"error": ...} as
// JSON. Driven by tests/callers_test.go; configuration comes from the
// environment so no key appears on a command line:
//
//   IDV_PORT      the server's port on 127.0.0.1
//   IDV_HOST      the host the SDK is given (default faceid.idverify.test):
//                 a name, resolved to 127.0.0.1 below, or 127.0.0.1 itself
//   IDV_SECRET_ID, IDV_SECRET_KEY   the caller's key pair
//   IDV_ACTION    e.g. IdCardVerification
//   IDV_PARAMS    the request as JSON
//
// The SDK takes the signature's service from the endpoint's first label
// ("faceid.example.com" -> "faceid", "<id>.lambda-url.<region>.on.aws" ->
// "<id>", "127.0.0.1:<port>" -> "127"); the server accepts whichever service
// an issued key pair signed for, so any host works. The agent below resolves
// the one name it is given to 127.0.0.1 (Node does not look up an address),
// and reports the service of the credential scope the SDK signed for as
// "scopeService", so the test can tell which service was exercised.
"use strict";
const http = require("http");
const tencentcloud = require("tencentcloud-sdk-nodejs");

const env = (name, def) => {
  const v = process.env[name];
  if (v === undefined || v === "") {
    if (def !== undefined) return def;
    console.error(`call.js: ${name} is not set`);
    process.exit(2);
  }
  return v;
};

const host = env("IDV_HOST", "faceid.idverify.test");
const port = env("IDV_PORT");
const action = env("IDV_ACTION");
const params = JSON.parse(env("IDV_PARAMS", "{}"));

let scopeService = "";
const agent = new http.Agent({
  lookup: (hostname, options, callback) => {
    if (hostname !== host) {
      callback(new Error(`call.js resolves only ${host}`));
    } else if (options && options.all) {
      callback(null, [{ address: "127.0.0.1", family: 4 }]);
    } else {
      callback(null, "127.0.0.1", 4);
    }
  },
});

const addRequest = agent.addRequest.bind(agent);
agent.addRequest = (req, options) => {
  const m = /Credential=[^/]*\/[^/]*\/([^/]*)\/tc3_request/.exec(String(req.getHeader("authorization") || ""));
  if (m) scopeService = m[1];
  return addRequest(req, options);
};

const client = new tencentcloud.faceid.v20180301.Client({
  credential: { secretId: env("IDV_SECRET_ID"), secretKey: env("IDV_SECRET_KEY") },
  region: "ap-guangzhou",
  profile: {
    httpProfile: { endpoint: `${host}:${port}`, protocol: "http://", reqTimeout: 10, agent },
  },
});

if (typeof client[action] !== "function") {
  console.error(`call.js: the SDK has no action ${action}`);
  process.exit(2);
}

client[action](params).then(
  (response) => console.log(JSON.stringify({ response, scopeService })),
  (err) => {
    const error = { code: err.code || "", message: err.message || String(err), requestId: err.requestId || "" };
    console.log(JSON.stringify({ error, scopeService }));
  },
);
