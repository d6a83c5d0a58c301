// Compiled by `tsc --noEmit --strict` (ctest web.types_check): correct uses of web/ocpp.d.ts must
// type-check, and each `@ts-expect-error` line must be an error (tsc fails on an unused one).
import {
  OcppClient, RpcError, TimeoutError, ConnectionError, ValidationError, UsageError, NOREPLY,
  loadEngine, validate, V201, V16,
} from '../../../web/ocpp.js';
import type { OcppActions } from '../../../web/ocpp.js';

export async function station(): Promise<void> {
  const { startupMs } = await loadEngine();
  const c = new OcppClient({
    endpoint: 'ws://localhost:9000/ocpp', identity: 'CP001', protocols: ['ocpp2.0.1'],
    strictMode: ['ocpp2.0.1'], callTimeoutMs: 5000,
  });
  const protocol: 'ocpp2.0.1' | undefined = c.protocol;
  await c.connect();

  const boot = await c.call('BootNotification', {
    chargingStation: { model: 'M', vendorName: 'V' }, reason: 'PowerUp',
  });
  const status: V201.RegistrationStatusEnumType = boot.status;
  const interval: number = boot.interval;
  await c.call<'Heartbeat'>('Heartbeat', {}, { timeoutMs: 1000 });
  await c.call('DataTransfer', { vendorId: 'x', data: { any: ['json', 1] } });

  // @ts-expect-error: not an OCPP 2.0.1 action
  await c.call('BootNotificaton', {});
  // @ts-expect-error: chargingStation is required
  await c.call('BootNotification', { reason: 'PowerUp' });
  // @ts-expect-error: 'Powerup' is not a BootReasonEnumType
  await c.call('BootNotification', { chargingStation: { model: 'M', vendorName: 'V' }, reason: 'Powerup' });
  // @ts-expect-error: seqNo is a number
  await c.call('NotifyReport', { requestId: 1, generatedAt: 'x', seqNo: '0' });
  // @ts-expect-error: unknown member of a closed object (additionalProperties false)
  await c.call('Heartbeat', { extra: 1 });
  // @ts-expect-error: Reset is sent by the CSMS, not called by a station
  await c.call('Reset', { type: 'Immediate' });
  // @ts-expect-error: SEND exists in OCPP 2.1 only
  c.send('NotifyPeriodicEventStream', { id: 1, pending: 0, basetime: 'x', data: [] });
  // @ts-expect-error: the result of BootNotification has no 'idTagInfo'
  boot.idTagInfo;

  c.handle('Reset', ({ params, messageId }) => {
    const t: V201.ResetEnumType = params.type;
    void t; void messageId;
    return { status: 'Accepted' };
  });
  c.handle('ocpp2.0.1', 'GetVariables', async ({ params }) => ({
    getVariableResult: params.getVariableData.map((d) => ({
      attributeStatus: 'Accepted' as const, component: d.component, variable: d.variable,
    })),
  }));
  c.handle('TriggerMessage', () => NOREPLY);
  c.handle('UnlockConnector', () => { throw new RpcError('NotSupported', 'no connectors', { n: 0 }); });
  c.handle(({ action, params }) => ({ action, params }));
  // @ts-expect-error: 'Rebooted' is not a ResetStatusEnumType
  c.handle('Reset', () => ({ status: 'Rebooted' }));
  // @ts-expect-error: BootNotification is never sent to a station
  c.handle('BootNotification', () => ({}));
  // @ts-expect-error: the client does not speak 1.6
  c.handle('ocpp1.6', 'Reset', () => ({ status: 'Accepted' }));

  c.on('open', ({ protocol }) => { const p: 'ocpp2.0.1' = protocol; void p; });
  c.on('close', ({ code, reason }) => { void (code + reason.length); });
  c.on('message', ({ direction, type, raw, latencyMs }) => { void [direction, type, raw, latencyMs]; });
  c.on('validationFailure', ({ phase, path, keyword, code }) => { void [phase, path, keyword, code]; });
  // @ts-expect-error: no such event
  c.on('opened', () => {});
  // @ts-expect-error: close events carry no protocol
  c.on('close', ({ protocol }) => protocol);

  try {
    await c.call('Authorize', { idToken: { idToken: 'AA', type: 'ISO14443' } });
  } catch (e) {
    if (e instanceof ValidationError) {
      const s: string = e.path + e.keyword + e.code;
      void s;
    } else if (e instanceof RpcError) {
      const s: string = e.code + e.description;
      void [s, e.details];
    } else if (e instanceof ConnectionError) {
      const n: number | undefined = e.closeCode;
      void n;
    } else if (e instanceof TimeoutError || e instanceof UsageError) {
      void e.message;
    }
  }

  const err = validate('ocpp2.0.1', 'BootNotification', 'request', {});
  if (err) { const s: string = err.path + err.keyword + err.message + err.code; void s; }
  const closed = await c.close({ code: 1000, awaitPending: true });
  void [startupMs, protocol, status, interval, closed.code];
}

export async function v21AndV16(): Promise<void> {
  const c21 = new OcppClient({ endpoint: 'ws://h/', identity: 'A', protocols: ['ocpp2.1'] });
  c21.send('NotifyPeriodicEventStream', { id: 1, pending: 0, basetime: '2024-01-01T00:00:00Z', data: [{ t: 0, v: '1' }] });

  const c16 = new OcppClient({ endpoint: 'ws://h/', identity: 'B', protocols: ['ocpp1.6'] });
  const r = await c16.call('BootNotification', { chargePointVendor: 'V', chargePointModel: 'M' });
  const s: V16.BootNotificationStatus = r.status;
  c16.handle('Reset', ({ params }) => ({ status: params.type === 'Hard' ? 'Accepted' : 'Rejected' }));
  // @ts-expect-error: 1.6 BootNotification needs chargePointModel
  await c16.call('BootNotification', { chargePointVendor: 'V' });
  void s;

  // Several protocols: the actions they share, with either protocol's payload.
  const both = new OcppClient({ endpoint: 'ws://h/', identity: 'C', protocols: ['ocpp2.0.1', 'ocpp2.1'] });
  await both.call('Heartbeat', {});
  // @ts-expect-error: 2.1 only
  await both.call('NotifyPriorityCharging', { transactionId: 't', activated: true });
}

// The action map itself: request, response and direction of each action.
type Boot201 = OcppActions['ocpp2.0.1']['BootNotification'];
export const direction: Boot201['direction'] = 'ToCsms';
// @ts-expect-error: BootNotification goes to the CSMS
export const wrongDirection: Boot201['direction'] = 'ToChargingStation';
