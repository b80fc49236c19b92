import { AbstractClient } from "../../../common/abstract_client";
import { ClientConfig } from "../../../common/interface";
import { AlphaRequest, AlphaResponse, BetaRequest, BetaResponse, GammaRequest, GammaResponse } from "./faceid_models";
/**
 * faceid client
 * @class
 */
export declare class Client extends AbstractClient {
    constructor(clientConfig: ClientConfig);
    /**
     * 本接口无需参数。详情请查阅<a href="https://example.invalid/doc">说明</a>文档。
     */
    Beta(req?: BetaRequest, cb?: (error: string, rep: BetaResponse) => void): Promise<BetaResponse>;
    /**
     * 校验姓名的真实性。
     */
    Alpha(req: AlphaRequest, cb?: (error: string, rep: AlphaResponse) => void): Promise<AlphaResponse>;
    /**
     * 新接口。
     * @deprecated
     */
    Gamma(req: GammaRequest, cb?: (error: string, rep: GammaResponse) => void): Promise<GammaResponse>;
}
