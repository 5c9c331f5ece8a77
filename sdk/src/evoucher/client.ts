/**
 * Typed client of the e-voucher center's channel API: an institution verifies a scanned code online (and gets the
 * ecToken it settles with); a partner app exchanges the person's one-time authorisation code for a token and reads
 * what the person granted. Every call is a signed channel envelope (createChannelClient); verify takes an
 * idempotency key, so a retry after a lost answer does not use the code twice.
 */
import { type ChannelCallOptions, type ChannelClientOptions, createCenterClient } from '../channel-client.ts';

export interface EvoucherVerifyRequest {
  /** what the scanner read */
  qrCode: string;
  /** 用码业务类型: 01101 挂号, 01301 结算, 01302 取药, 02121 药店购药, 03131 线上身份核验 */
  businessType: '01101' | '01301' | '01302' | '02121' | '03131';
  operatorId?: string;
  /** the operator or window, e.g. 门诊收费 5 号窗: the person sees it in their usage history */
  operatorName?: string;
  deviceId?: string;
  /** the terminal's scan time, ms since the epoch (checked against the clock tolerance) */
  scanTime?: number;
}

export interface EvoucherInsuranceSummary {
  regionCode: string;
  personType: string;
  insurances: Array<{ insuranceType: string; insuranceTypeName: string; status: string }>;
}

export interface EvoucherVerifyResult {
  useId: string;
  businessType: string;
  businessTypeName: string;
  /** masked */
  person: { name: string; residentId: string; idType: '01' };
  insurance: EvoucherInsuranceSummary;
  /** the visit credential for settlement (mdtrt_cert_type 01), valid 30 minutes */
  ecToken: string;
  ecTokenExpiresAt: string;
  insuOrg: string;
}

/** what a person may grant a channel: identity (masked), insurance, payment (the query code for mobile payment) */
export type EvoucherScope = 'identity' | 'insurance' | 'payment';

export interface EvoucherChannelToken {
  accessToken: string;
  expiresAt: string;
  scopes: EvoucherScope[];
}

export interface EvoucherChannelPerson {
  scopes: EvoucherScope[];
  person?: { name: string; residentId: string };
  insurance?: EvoucherInsuranceSummary;
}

export interface EvoucherClient {
  verify(data: EvoucherVerifyRequest, options?: ChannelCallOptions): Promise<EvoucherVerifyResult>;
  exchangeCode(authCode: string, options?: ChannelCallOptions): Promise<EvoucherChannelToken>;
  person(accessToken: string, options?: ChannelCallOptions): Promise<EvoucherChannelPerson>;
}

/** `baseUrl` is the platform's origin, e.g. "https://yibao.example". */
export function createEvoucherClient(options: ChannelClientOptions): EvoucherClient {
  const client = createCenterClient('evoucher', options);
  return {
    verify: (data, o) => client.call('verify', 'ec.query', data, o),
    exchangeCode: (authCode, o) => client.call('token', 'ec.token', { authCode }, o),
    person: (accessToken, o) => client.call('person', 'ec.person', { accessToken }, o),
  };
}
