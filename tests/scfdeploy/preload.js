'use strict';

// Preload (node -r ./preload.js): sends every connection for a Tencent Cloud
// host (*.tencentcloudapi.com, *.myqcloud.com) to the fake cloud at
// SCFDEPLOY_FAKE_ADDR (host:port on loopback), keeping the TLS server name and
// the Host header the client chose, and refuses every other non-loopback
// connection, so nothing a deploy does can reach a real cloud. The fake's CA
// is trusted through NODE_EXTRA_CA_CERTS.

const net = require('net');
const tls = require('tls');

const fake = process.env.SCFDEPLOY_FAKE_ADDR || '';
const sep = fake.lastIndexOf(':');
if (sep < 0) {
  throw new Error('preload.js: SCFDEPLOY_FAKE_ADDR (host:port of the fake cloud) is not set');
}
const fakeHost = fake.slice(0, sep);
const fakePort = Number(fake.slice(sep + 1));

const cloudHost = /(^|\.)(tencentcloudapi\.com|myqcloud\.com)\.?$/i;
const loopback = (h) => !h || h === 'localhost' || h === '::1' || /^127\./.test(h);

// connections lists the cloud hosts connected to, for the driver's summary.
const connections = new Set();
global.__scfdeployConnections = connections;

// normalize turns the (port, host, options) forms of connect into options.
function normalize(args) {
  let options = {};
  let rest = [];
  if (args[0] !== null && typeof args[0] === 'object') {
    options = { ...args[0] };
    rest = Array.prototype.slice.call(args, 1);
  } else {
    const a = Array.prototype.slice.call(args);
    if (typeof a[0] === 'number' || (typeof a[0] === 'string' && /^\d+$/.test(a[0]))) {
      options.port = Number(a.shift());
      if (typeof a[0] === 'string') options.host = a.shift();
      if (a[0] !== null && typeof a[0] === 'object') options = { ...a.shift(), ...options };
    } else if (typeof a[0] === 'string') {
      options.path = a.shift();
    }
    rest = a;
  }
  return [options, rest];
}

function redirect(options, secure) {
  if (options.path && !options.host) return options; // unix socket
  const host = String(options.host || options.hostname || 'localhost').toLowerCase();
  if (cloudHost.test(host)) {
    connections.add(host);
    if (!secure) {
      throw new Error(`preload.js: plain-text connection to ${host} refused (the fake cloud speaks HTTPS only)`);
    }
    return {
      ...options,
      host: fakeHost,
      hostname: fakeHost,
      port: fakePort,
      servername: options.servername || host,
      lookup: undefined,
    };
  }
  if (!loopback(host)) {
    throw new Error(`preload.js: connection to ${host} refused: the deploy test must not leave this machine`);
  }
  return options;
}

const tlsConnect = tls.connect;
tls.connect = function connect(...args) {
  const [options, rest] = normalize(args);
  return tlsConnect.call(this, redirect(options, true), ...rest);
};

const netConnect = net.connect;
function plainConnect(...args) {
  const [options, rest] = normalize(args);
  return netConnect.call(this, redirect(options, false), ...rest);
}
net.connect = plainConnect;
net.createConnection = plainConnect;
