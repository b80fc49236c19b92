/**
 * Alpha请求参数结构体
 */
export interface AlphaRequest {
    /**
     * 姓名。
     */
    Name: string;
    /**
     * 标签列表。
     */
    Tags?: Array<string>;
    /**
     * 配置，示例：
     {
        "Key": null, // 不是字段
     }
     */
    Config?: Config;
    /**
     * 编号。
     */
    Ids?: Array<number | bigint>;
    /**
     * 已废弃。请使用Name。
     * @deprecated
     */
    OldName?: string;
}
/**
 * Alpha返回参数结构体
 */
export interface AlphaResponse {
    /**
     * <p>认证结果码。</p><ul><li>收费结果码：<br>0: &quot;一致&quot;</li><li>-1: 不一致</li></ul>
  注意：此字段可能返回 null，表示取不到有效值。
     */
    Result?: string;
    /**
     * 结果明细，参见<a href="https://example.invalid">明细说明</a>。
     */
    Items?: Array<Item>;
    /**
     * 唯一请求 ID。
     */
    RequestId?: string;
}
/**
 * 配置
 */
export interface Config {
    /**
     * 开关，   多个   空格
  与换行。
     */
    Enabled: boolean;
    /**
     * 阈值&lt;0.6时判断为攻击。SimilarityScore<0.6是攻击。
     */
    Threshold?: number;
}
/**
 * 明细
 */
export interface Item {
    /**
     * 一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十
     */
    Long?: string;
    /**
     * 可能为空。
  注意：此字段可能返回 null，表示取不到有效值
     */
    Maybe?: string;
    /**
     * 子配置。
     */
    Sub?: Array<Config>;
}
export type BetaRequest = null;
/**
 * Beta返回参数结构体
 */
export interface BetaResponse {
    /**
     * 验证码。
     */
    Code?: string;
    /**
     * 唯一请求 ID。
     */
    RequestId?: string;
}
/**
 * Gamma请求参数结构体
 */
export interface GammaRequest {
    /**
     * 令牌。
     */
    Token: string;
}
/**
 * Gamma返回参数结构体
 */
export interface GammaResponse {
    /**
     * 唯一请求 ID。
     */
    RequestId?: string;
}
