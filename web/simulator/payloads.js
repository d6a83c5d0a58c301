// The payloads a simulated station sends, per protocol: schema-valid in ocpp1.6, ocpp2.0.1 and
// ocpp2.1 (the CSMS may run strict mode). No DOM, so they can be checked against the schemas alone.

export const isV16 = (protocol) => protocol === 'ocpp1.6';
const now = () => new Date().toISOString();
const round1 = (x) => Math.round(x * 10) / 10;

// Connector states the status select offers, and the ones a transaction moves through.
export const connectorStatuses = (p) => isV16(p)
  ? ['Available', 'Preparing', 'Charging', 'SuspendedEVSE', 'SuspendedEV', 'Finishing', 'Reserved', 'Unavailable', 'Faulted']
  : ['Available', 'Occupied', 'Reserved', 'Unavailable', 'Faulted'];
export const chargingStatus = (p) => (isV16(p) ? 'Charging' : 'Occupied');

export function bootNotification(p, { vendor, model, serial, firmware }, reason = 'PowerUp') {
  if (isV16(p)) {
    const b = { chargePointVendor: vendor, chargePointModel: model };
    if (serial) b.chargePointSerialNumber = serial;
    if (firmware) b.firmwareVersion = firmware;
    return b;
  }
  const station = { model, vendorName: vendor };
  if (serial) station.serialNumber = serial;
  if (firmware) station.firmwareVersion = firmware;
  return { reason, chargingStation: station };
}

export function statusNotification(p, connectorId, status) {
  if (isV16(p)) return { connectorId, errorCode: 'NoError', status, timestamp: now() };
  return { timestamp: now(), connectorStatus: status, evseId: 1, connectorId };
}

export const idToken = (tag) => ({ idToken: tag, type: 'ISO14443' });
export const authorize = (p, tag) => (isV16(p) ? { idTag: tag } : { idToken: idToken(tag) });

// One MeterValue: energy register (Wh), power (W), state of charge (%).
export function meterValue(p, { energyWh, powerW, soc }, context = 'Sample.Periodic') {
  const sampled = isV16(p)
    ? [
        { value: String(round1(energyWh)), context, measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
        { value: String(round1(powerW)), context, measurand: 'Power.Active.Import', unit: 'W' },
        { value: String(Math.round(soc)), context, measurand: 'SoC', location: 'EV', unit: 'Percent' },
      ]
    : [
        { value: round1(energyWh), context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } },
        { value: round1(powerW), context, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'W' } },
        { value: Math.round(soc), context, measurand: 'SoC', location: 'EV', unitOfMeasure: { unit: 'Percent' } },
      ];
  return { timestamp: now(), sampledValue: sampled };
}

// MeterValues outside a transaction's own events (1.6 always; 2.x on TriggerMessage).
export function meterValues(p, connectorId, tx, reading, context = 'Sample.Periodic') {
  if (isV16(p)) {
    const m = { connectorId, meterValue: [meterValue(p, reading, context)] };
    if (tx && Number.isInteger(tx.id)) m.transactionId = tx.id;
    return m;
  }
  return { evseId: 1, meterValue: [meterValue(p, reading, context)] };
}

// The transaction `tx`: { id, connectorId, idTag, seqNo, remoteStartId?, reading }. 2.x events take
// the next seqNo from it.
export function startTransaction(p, tx, remote) {
  if (isV16(p)) {
    const s = { connectorId: tx.connectorId, idTag: tx.idTag, meterStart: Math.round(tx.reading.energyWh), timestamp: now() };
    return ['StartTransaction', s];
  }
  const info = { transactionId: tx.id, chargingState: 'Charging' };
  if (remote && tx.remoteStartId !== undefined) info.remoteStartId = tx.remoteStartId;
  return ['TransactionEvent', {
    eventType: 'Started', timestamp: now(), triggerReason: remote ? 'RemoteStart' : 'Authorized', seqNo: tx.seqNo++,
    transactionInfo: info, idToken: idToken(tx.idTag), evse: { id: 1, connectorId: tx.connectorId },
    meterValue: [meterValue(p, tx.reading, 'Transaction.Begin')],
  }];
}

export function updateTransaction(p, tx, trigger = 'MeterValuePeriodic') {
  if (isV16(p)) return ['MeterValues', meterValues(p, tx.connectorId, tx, tx.reading)];
  const context = trigger === 'Trigger' ? 'Trigger' : 'Sample.Periodic';
  return ['TransactionEvent', {
    eventType: 'Updated', timestamp: now(), triggerReason: trigger, seqNo: tx.seqNo++,
    transactionInfo: { transactionId: tx.id, chargingState: 'Charging' },
    meterValue: [meterValue(p, tx.reading, context)],
  }];
}

// reason: 'Local' | 'Remote' | 'DeAuthorized' | 'HardReset' | 'SoftReset' (1.6 names; mapped for 2.x).
export function stopTransaction(p, tx, reason = 'Local') {
  if (isV16(p)) {
    return ['StopTransaction', {
      transactionId: tx.id, idTag: tx.idTag, meterStop: Math.round(tx.reading.energyWh), timestamp: now(), reason,
      transactionData: [meterValue(p, tx.reading, 'Transaction.End')],
    }];
  }
  const stoppedReason = { HardReset: 'ImmediateReset', SoftReset: 'Reboot' }[reason] ?? reason;
  const triggerReason = { Remote: 'RemoteStop', DeAuthorized: 'Deauthorized', HardReset: 'ResetCommand', SoftReset: 'ResetCommand' }[reason] ?? 'StopAuthorized';
  return ['TransactionEvent', {
    eventType: 'Ended', timestamp: now(), triggerReason, seqNo: tx.seqNo++,
    transactionInfo: { transactionId: tx.id, chargingState: 'Idle', stoppedReason },
    meterValue: [meterValue(p, tx.reading, 'Transaction.End')],
  }];
}
