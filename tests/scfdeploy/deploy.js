'use strict';

// deploy.js <dir>: what `scf deploy` in <dir> and the remote multi-scf
// component do, with the published code of every step that is published.
// Run with `node -r ./preload.js` so the Tencent Cloud hosts reach the fake.
//
// CLI side (runs on the deployer's machine), all published code:
//   - the .env lookup of @serverless/components src/cli/index.js (restated:
//     it is inline in the CLI's entry point), loaded with its dotenv;
//   - @serverless/components src/cli/commands-cn/utils.js:
//     checkBasicConfigValidation, login (the CAM GetUserAppId check when
//     TENCENT_SECRET_ID / TENCENT_SECRET_KEY are set), loadInstanceConfig
//     (serverless.yml, resolveVariables for ${env:X}, src paths);
//   - @serverless-cloud-framework/platform-client-china src/instance.js:
//     validateAndFormat, and run()'s steps preRunSrcHook (src.hook),
//     getFilesAndMap and zipChanges (the code zip). The module keeps those
//     three private, so it is compiled here from its own file with one line
//     appended that exports them; nothing of it is changed.
// The platform leg is not run: the CLI would send the instance to the
// Serverless platform (JSON, so undefined values are dropped: restated
// below as a JSON round trip) and upload the zip to it; the platform then
// runs the component with inputs.src = that zip.
//
// Component side (multi-scf runs on Tencent's side and is not on npm): its
// steps are restated below from serverless-components/tencent-multi-scf at
// commit 02cf563 (src/formatter.ts formatInputs / uploadCodeToCos /
// formatTriggerInputs, src/zipper.ts, src/index.ts deploy), using the
// libraries it uses: tencent-component-toolkit (Cos, Scf, TriggerManager),
// adm-zip (at the version its "^0.5.5" resolves to) and fast-glob.
//
// Credentials: TENCENT_SECRET_ID, TENCENT_SECRET_KEY, TENCENT_TOKEN
// (optional), TENCENT_APP_ID. SCFDEPLOY_DOTENV=0 skips the .env lookup.
// Prints one JSON line on stdout: {"ok":true,...} or {"ok":false,"error":...};
// exits 1 on failure. Everything else (the libraries' logs) goes to stderr.

const fs = require('fs');
const os = require('os');
const path = require('path');
const Module = require('module');

// Keep stdout for the summary.
const out = process.stdout.write.bind(process.stdout);
console.log = console.info = (...a) => process.stderr.write(a.map(String).join(' ') + '\n');

function loadPrivate(request, names) {
  const file = require.resolve(request);
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  const src = fs.readFileSync(file, 'utf8');
  m._compile(`${src}\n;module.exports.__private = { ${names.join(', ')} };\n`, file);
  return m.exports;
}

// The CLI's .env lookup (src/cli/index.js): <stage> file, then default, in the
// directory, its parent and its grandparent; the first that exists wins.
function loadDotenv(dir) {
  const { loadInstanceConfig } = require('@serverless/components/src/cli/utils');
  const dotenv = require(require.resolve('dotenv', {
    paths: [path.dirname(require.resolve('@serverless/components/package.json'))],
  }));
  const raw = loadInstanceConfig(dir);
  const stage = (raw && raw.stage) || 'dev';
  for (const d of [dir, path.join(dir, '..'), path.join(dir, '../..')]) {
    for (const f of [`.env.${stage}`, '.env']) {
      const p = path.join(d, f);
      if (fs.existsSync(p)) {
        dotenv.config({ path: path.resolve(p) });
        return p;
      }
    }
  }
  return null;
}

async function cliSide(dir) {
  const cn = require('@serverless/components/src/cli/commands-cn/utils');
  await cn.checkBasicConfigValidation(dir);
  await cn.login({});
  const instanceYaml = await cn.loadInstanceConfig(dir, 'deploy');
  const credentials = await cn.loadInstanceCredentials(instanceYaml.stage);

  const inst = loadPrivate('@serverless-cloud-framework/platform-client-china/src/instance.js',
    ['preRunSrcHook', 'getFilesAndMap', 'zipChanges']);
  const { preRunSrcHook, getFilesAndMap, zipChanges } = inst.__private;

  // run(): the instance is copied through JSON, validated, src kept as
  // srcOriginal, the hook run, and (for deploy with a string src) the files
  // zipped; the first deploy has no previous map, so every file is in it.
  let instance = JSON.parse(JSON.stringify(instanceYaml));
  instance = inst.validateAndFormat(instance);
  if (instance.inputs.src) {
    instance.inputs.srcOriginal = JSON.parse(JSON.stringify(instance.inputs.src));
  }
  instance.inputs.src = await preRunSrcHook(instance.inputs.src);
  let zipPath = null;
  let zipBytes = 0;
  let srcBytes = 0;
  if (instance.inputs.src && typeof instance.inputs.src === 'string') {
    const srcOriginal = instance.inputs.srcOriginal;
    const targetDir = typeof srcOriginal === 'object' && srcOriginal.targetDir;
    const { map, files, bytes } = await getFilesAndMap(instance.inputs, targetDir);
    srcBytes = bytes;
    // cache(): the CLI refuses more than 700 MB.
    if (bytes > 734003200) {
      throw new Error('Code size exceeds 700MB.');
    }
    const zip = await zipChanges(Object.keys(map), [], map, files);
    zipPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'scfdeploy-src-')), 'src.zip');
    fs.writeFileSync(zipPath, zip);
    zipBytes = zip.length;
    instance.inputs.src = zipPath;
  } else {
    delete instance.inputs.src;
  }
  // To the platform and on to the component: JSON again.
  instance = JSON.parse(JSON.stringify(instance));
  return { instance, credentials: credentials.tencent, zipPath, zipBytes, srcBytes };
}

// ---- The multi-scf component, restated from tencent-multi-scf 02cf563. ----

const CONFIGS = {
  region: 'ap-guangzhou',
  description: 'Created by Serverless',
  type: 'event',
  namespace: 'default',
  runtime: 'Nodejs12.16',
  lifecycle: [{
    status: 'Enabled',
    id: 'deleteObject',
    expiration: { days: '10' },
    abortIncompleteMultipartUpload: { daysAfterInitiation: '10' },
  }],
};

const stamp = () => Math.floor(Date.now() / 1000);
const shortId = () => Math.random().toString(36).slice(-8);
const kindOf = (v) => Object.prototype.toString.call(v).slice(8, -1);

// formatter.ts formatFaasInputs: "environments" and "tags" lists become maps.
function toFunctionInputs(fn) {
  if (Array.isArray(fn.environments || [])) {
    const variables = {};
    for (const { key, value } of fn.environments || []) variables[key] = value;
    fn.environment = { variables };
  }
  if (Array.isArray(fn.tags || [])) {
    const tags = {};
    for (const { key, value } of fn.tags || []) tags[key] = value;
    fn.tags = tags;
  }
  if (fn.vpc) fn.vpcConfig = fn.vpc;
  return fn;
}

// zipper.ts: unzip extracts every entry whose name contains the function's
// src with adm-zip extractEntryTo (no keepOriginalPermission argument), and
// zip adds every file under the folder at mode 0755 if its owner-exec bit is
// set on disk, else 0644.
function extractFunctionSrc(AdmZip, zipFile, target, entryName) {
  const adm = new AdmZip(zipFile);
  const wanted = entryName.replace('./', '');
  for (const e of adm.getEntries()) {
    if (e.entryName.indexOf(wanted) !== -1) adm.extractEntryTo(e, target, true, true);
  }
}

async function zipFolder(AdmZip, fg, src, filename) {
  const adm = new AdmZip();
  const files = await fg('**/*', { cwd: src, dot: true });
  if (files.length === 0) throw new Error('指定 src 目录为空');
  for (const f of files) {
    const p = path.resolve(src, f);
    adm.addFile(f, fs.readFileSync(p), '', fs.statSync(p).mode & 0o100 ? 0o755 : 0o644);
  }
  adm.writeZip(filename);
}

async function component(instance, creds) {
  const { Cos, Scf, TriggerManager } = require('tencent-component-toolkit');
  const AdmZip = require('adm-zip');
  const fg = require('fast-glob');
  const inputs = instance.inputs;
  const me = { name: instance.instanceName, stage: instance.stageName, app: instance.appName };
  const credentials = { SecretId: creds.SecretId, SecretKey: creds.SecretKey, Token: creds.Token };
  const appId = creds.AppId;
  if (!appId) throw new Error('TENCENT_APP_ID is not set');

  // formatInputs
  const region = inputs.region || CONFIGS.region;
  const common = JSON.parse(JSON.stringify({
    ...inputs,
    type: inputs.type || CONFIGS.type,
    namespace: inputs.namespace || CONFIGS.namespace,
    runtime: inputs.runtime || CONFIGS.runtime,
    description: inputs.description || CONFIGS.description,
  }));
  delete common.src;
  const list = Array.isArray(inputs.functions)
    ? [...inputs.functions]
    : Object.entries(inputs.functions || {}).map(([key, f]) => ({ ...f, key }));
  const functions = [];
  const byKey = {};
  for (const f of list) {
    const fn = toFunctionInputs(Object.assign({}, common, f));
    fn.key = f.key;
    fn.name = fn.name || `${me.name}-${me.stage}-${me.app}-${f.key}`;
    functions.push(fn);
    byKey[f.key != null ? f.key : fn.name] = { name: fn.name, type: fn.type, namespace: fn.namespace };
  }

  // uploadCodeToCos
  const srcOriginal = inputs.srcOriginal;
  const srcSpec = kindOf(srcOriginal) === 'Object' ? srcOriginal
    : kindOf(srcOriginal) === 'String' ? { src: srcOriginal } : {};
  const bucketName = srcSpec.bucket
    ? (srcSpec.bucket.endsWith(`-${appId}`) ? srcSpec.bucket.slice(0, -(`-${appId}`.length)) : srcSpec.bucket)
    : `sls-cloudfunction-${region}-code`;
  const bucket = `${bucketName}-${appId}`;
  const cos = new Cos(credentials, region);
  if (!srcSpec.bucket) {
    await cos.deploy({ bucket, force: true, lifecycle: CONFIGS.lifecycle });
  }
  const uploads = [];
  const wholeObject = `${me.name}-${me.stage}-${me.app}-${shortId()}-${stamp()}.zip`;
  let wholeUploaded = false;
  // The component works in /tmp/<function name>; a fresh directory here.
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'scfdeploy-fn-'));
  for (const fn of functions) {
    if (fn.image) throw new Error('image functions are not part of this test');
    const own = fn.src && fn.src.replace('./', '');
    if (own) {
      const object = `${fn.name}-${shortId()}-${stamp()}.zip`;
      const dir = path.join(work, fn.name);
      fs.mkdirSync(dir);
      extractFunctionSrc(AdmZip, inputs.src, path.join(dir, 'code'), own);
      const file = path.join(dir, object);
      await zipFolder(AdmZip, fg, path.join(dir, 'code', fn.src), file);
      await cos.upload({ bucket, file, key: object });
      uploads.push({ function: fn.key, object, bytes: fs.statSync(file).size });
      fs.rmSync(dir, { recursive: true, force: true });
      fn.code = { bucket: bucketName, object };
    } else {
      if (!wholeUploaded) {
        await cos.upload({ bucket, file: inputs.src, key: wholeObject });
        uploads.push({ function: '*', object: wholeObject, bytes: fs.statSync(inputs.src).size });
        wholeUploaded = true;
      }
      fn.code = { bucket: bucketName, object: wholeObject };
    }
  }

  // formatTriggerInputs (no apigw triggers here: they are refused below)
  const triggers = (inputs.triggers || []).map((t) => {
    t.namespace = inputs.namespace || 'default';
    if (t.type === 'apigw') throw new Error('apigw triggers are not part of this test');
    const f = byKey[t.function];
    if (!f) throw new Error(`Function ${t.function} not in deploy list`);
    t.function = { name: f.name, type: f.type, namespace: f.namespace };
    return t;
  });

  // index.ts deploy: bulkDeployFaas, then bulkCreateTriggers.
  const scf = new Scf(credentials, region);
  const deployed = [];
  for (const fn of functions) {
    const res = await scf.deploy(fn);
    deployed.push({ key: fn.key, name: res.FunctionName, runtime: res.Runtime, handler: res.Handler });
  }
  const manager = new TriggerManager(credentials, region);
  const { triggerList } = await manager.bulkCreateTriggers(triggers, inputs.namespace);
  return { region, bucket, uploads, functions: deployed, triggers: triggerList };
}

async function main() {
  const dir = path.resolve(process.argv[2] || '.');
  process.chdir(dir);
  const dotenvFile = process.env.SCFDEPLOY_DOTENV === '0' ? null : loadDotenv(dir);
  const { instance, credentials, zipPath, zipBytes, srcBytes } = await cliSide(dir);
  if (!zipPath) throw new Error('serverless.yml has no code to deploy (inputs.src)');
  const result = await component(instance, credentials);
  out(JSON.stringify({
    ok: true,
    dotenv: dotenvFile,
    instance: { org: instance.orgName, app: instance.appName, stage: instance.stageName, name: instance.instanceName },
    srcBytes,
    zipBytes,
    ...result,
    connections: [...(global.__scfdeployConnections || [])].sort(),
  }) + '\n');
}

main().catch((e) => {
  out(JSON.stringify({ ok: false, error: String((e && e.message) || e) }) + '\n');
  process.exitCode = 1;
});
