"use strict";
class Client extends abstract_client_1.AbstractClient {
    async Beta(req, cb) {
        return this.request("Beta", req, cb);
    }
    async Alpha(req, cb) {
        return this.request("Alpha", req, cb);
    }
    async Gamma(req, cb) {
        return this.request("Gamma", req, cb);
    }
}
