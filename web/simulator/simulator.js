// The browser station simulator: several charge points in tabs, each an OcppClient of ./ocpp.js.
//
// For tests (all ids belong to the active station's view; switching tabs rebinds them):
//   #tabs .tab[data-index=N][aria-selected]  station tabs; #add-station, #remove-station
//   #url #identity #protocol #password #strict #vendor #model #serial #firmware   connection fields
//   #connect #disconnect #boot    #conn-state[data-state=closed|connecting|open|closing]
//   #status[data-status]          BootNotification status: Accepted | Pending | Rejected | "Error: ..."
//   #notice                       the last error or note
//   #heartbeat #hb-interval       heartbeat now; the interval the CSMS gave (automatic heartbeats)
//   #connector #connector-status #send-status      StatusNotification
//   #id-tag #authorize #auth-result                Authorize (idTag / idToken)
//   #start-tx #stop-tx #tx-state[data-state=idle|starting|charging|stopping] #tx-id
//   #meter-energy #meter-power #meter-soc (numbers: Wh, W, %), #power, #meter-interval (s)
//   #config                       config store table (tr[data-key])
//   #composer-action #composer-payload #composer-send #composer-result[data-outcome=result|error]
//   #log (li.entry[data-dir=in|out|sys][data-type][data-action]), #log-count,
//   #log-filter-in #log-filter-out #log-filter-sys #log-search #log-export #log-clear
//   #engine                       "engine loaded in N ms" or the load error
// Query string: ?url=&identity=&protocol=&password=&strict=1&meterInterval=S&autostart=1
// (autostart: the first station connects and boots at once).
import * as P from './payloads.js';

const MAX_LOG = 2000;
const BATTERY_WH = 60000;

// The config store: 1.6 keys and the 2.x component/variable that mean the same.
const CONFIG = [
  { key: 'HeartbeatInterval', component: 'OCPPCommCtrlr', variable: 'HeartbeatInterval', value: '0', type: 'int' },
  { key: 'MeterValueSampleInterval', component: 'SampledDataCtrlr', variable: 'TxUpdatedInterval', value: '10', type: 'int' },
  { key: 'ConnectionTimeOut', component: 'TxCtrlr', variable: 'EVConnectionTimeOut', value: '60', type: 'int' },
  { key: 'AuthorizeRemoteTxRequests', component: 'AuthCtrlr', variable: 'AuthorizeRemoteStart', value: 'false', type: 'bool' },
  { key: 'MeterValuesSampledData', component: 'SampledDataCtrlr', variable: 'TxUpdatedMeasurands',
    value: 'Energy.Active.Import.Register,Power.Active.Import,SoC', readonly: true },
];

const errorText = (e) => (e && e.code ? `${e.code}${e.description ? `: ${e.description}` : ''}` : String(e?.message ?? e));
const later = (fn, ms = 0) => setTimeout(fn, ms);

// One simulated charge point. DOM-free: it reports through 'change' and 'log' events.
export class Station extends EventTarget {
  constructor(cfg, { OcppClient, WebSocket } = {}) {
    super();
    this.cfg = { url: '', identity: 'CP001', protocol: 'ocpp1.6', password: '', strict: false,
      vendor: 'OcppWsIo', model: 'WebSimulator', serial: '', firmware: '',
      ...Object.fromEntries(Object.entries(cfg).filter(([, v]) => v !== undefined)) };
    this.OcppClient = OcppClient;
    this.WebSocket = WebSocket;
    this.client = null;
    this.state = 'closed';
    this.bootStatus = '';
    this.notice = '';
    this.authResult = '';
    this.config = new Map(CONFIG.map((c) => [c.key, { ...c }]));
    this.connectorId = 1;
    this.connectorStatus = 'Available';
    this.operative = true;
    this.energyWh = 0;  // the station's register, over all transactions
    this.powerW = 11000;
    this.soc = 20;
    this.tx = null;  // { id, connectorId, idTag, seqNo, remoteStartId, reading, state }
    this.txState = 'idle';
    this.log = [];
    this.timers = { heartbeat: 0, meter: 0, boot: 0 };
    this.pending = { reset: false, unavailable: false };  // scheduled until the transaction ends
  }

  get protocol() { return this.client?.protocol || this.cfg.protocol; }
  get v16() { return P.isV16(this.protocol); }
  get open() { return this.state === 'open'; }
  get heartbeatInterval() { return Number(this.config.get('HeartbeatInterval').value); }
  get meterInterval() { return Math.max(1, Number(this.config.get('MeterValueSampleInterval').value) || 10); }
  reading() { return { energyWh: this.energyWh, powerW: this.tx ? this.powerW : 0, soc: this.soc }; }

  changed() { this.dispatchEvent(new Event('change')); }
  addLog(entry) {
    const e = { time: new Date().toISOString(), ...entry };
    this.log.push(e);
    if (this.log.length > MAX_LOG) this.log.splice(0, this.log.length - MAX_LOG);
    this.dispatchEvent(new CustomEvent('log', { detail: e }));
  }
  note(text, error = false) {
    this.notice = error ? `⚠ ${text}` : text;
    this.addLog({ dir: 'sys', type: error ? 'ERROR' : 'NOTE', action: '', raw: text });
    this.changed();
  }
  // UI actions: failures become notices, never unhandled rejections.
  async run(what, fn) {
    try {
      return await fn();
    } catch (e) {
      this.note(`${what}: ${errorText(e)}`, true);
      return undefined;
    }
  }

  // The identity is appended by OcppClient as a path segment.
  endpoint() { return this.cfg.url.trim().replace(/\/+$/, ''); }

  async connect() {
    if (this.client) return;
    if (!this.OcppClient) throw new Error('the engine (ocpp.js) is not loaded');
    const c = new this.OcppClient({
      endpoint: this.endpoint(), identity: this.cfg.identity, protocols: [this.cfg.protocol],
      password: this.cfg.password || undefined, strictMode: this.cfg.strict, reconnect: false,
      ...(this.WebSocket ? { WebSocket: this.WebSocket } : {}),
    });
    this.client = c;
    this.installHandlers(c);
    c.on('message', (e) => this.addLog({ dir: e.direction, type: e.type, action: e.action ?? '', messageId: e.messageId,
      raw: e.raw, latencyMs: e.latencyMs }));
    c.on('close', (e) => {
      if (this.client !== c) return;
      this.client = null;
      this.state = 'closed';
      this.stopHeartbeat();
      clearTimeout(this.timers.boot);
      this.note(`disconnected (${e.code}${e.reason ? ` ${e.reason}` : ''})`);
    });
    c.on('badMessage', (e) => this.note(`bad message from the CSMS: ${e.error?.message ?? e.error}`, true));
    c.on('validationFailure', (e) => this.note(`schema: ${e.action} ${e.phase} ${e.path ?? ''} ${e.keyword ?? ''}`, true));
    c.on('error', (e) => this.note(errorText(e.error), true));
    this.state = 'connecting';
    this.changed();
    try {
      await c.connect();
    } catch (e) {
      if (this.client === c) this.client = null;
      this.state = 'closed';
      this.changed();
      throw e;
    }
    this.state = 'open';
    this.note(`connected to ${this.endpoint()}/${this.cfg.identity} (${c.protocol})`);
  }

  async disconnect() {
    const c = this.client;
    if (!c) return;
    this.state = 'closing';
    this.stopHeartbeat();
    clearTimeout(this.timers.boot);
    this.changed();
    await c.close({ code: 1000, reason: '' });
  }

  async call(action, payload) {
    if (!this.client || !this.open) throw new Error(`not connected (${action})`);
    return this.client.call(action, payload);
  }

  async boot(reason = 'PowerUp') {
    clearTimeout(this.timers.boot);
    let res;
    try {
      res = await this.call('BootNotification', P.bootNotification(this.protocol, this.cfg, reason));
    } catch (e) {
      this.bootStatus = `Error: ${errorText(e)}`;
      this.changed();
      throw e;
    }
    this.bootStatus = res.status;
    if (res.status === 'Accepted') {
      this.setConfig('HeartbeatInterval', String(res.interval ?? 0));
      await this.sendStatus();
    } else if (res.interval > 0) {  // Pending / Rejected: boot again after the interval
      this.timers.boot = later(() => this.run('BootNotification', () => this.boot(reason)), res.interval * 1000);
    }
    this.changed();
    return res;
  }

  async heartbeat() {
    const res = await this.call('Heartbeat', {});
    this.changed();
    return res;
  }
  stopHeartbeat() {
    clearInterval(this.timers.heartbeat);
    this.timers.heartbeat = 0;
  }
  restartHeartbeat() {
    this.stopHeartbeat();
    if (this.open && this.bootStatus === 'Accepted' && this.heartbeatInterval > 0)
      this.timers.heartbeat = setInterval(() => this.run('Heartbeat', () => this.heartbeat()), this.heartbeatInterval * 1000);
  }

  async sendStatus(status = this.connectorStatus, connectorId = this.connectorId) {
    this.connectorStatus = status;
    this.changed();
    return this.call('StatusNotification', P.statusNotification(this.protocol, connectorId, status));
  }

  async authorize(tag) {
    const res = await this.call('Authorize', P.authorize(this.protocol, tag));
    this.authResult = (res.idTagInfo ?? res.idTokenInfo)?.status ?? '?';
    this.changed();
    return res;
  }

  // --- transactions ---------------------------------------------------------------------------
  setTxState(s) {
    this.txState = s;
    this.changed();
  }

  // Sends the start; on a refused id tag the transaction ends at once (DeAuthorized).
  async startTransaction({ idTag, connectorId = this.connectorId, remote = false, remoteStartId, id } = {}) {
    if (this.tx) throw new Error('a transaction is already running');
    if (!this.open) throw new Error('not connected');
    if (!idTag) throw new Error('an ID tag is needed');
    const tx = { id: this.v16 ? null : id ?? newTransactionId(), connectorId, idTag, seqNo: 0, remoteStartId,
      reading: this.reading() };
    this.tx = tx;
    this.setTxState('starting');
    let res;
    try {
      if (this.v16) await this.sendStatus('Preparing', connectorId);
      tx.reading = this.reading();
      this.lastTick = Date.now();
      const [action, payload] = P.startTransaction(this.protocol, tx, remote);
      res = await this.call(action, payload);
    } catch (e) {  // not started at the CSMS
      this.tx = null;
      this.setTxState('idle');
      throw e;
    }
    if (this.v16) tx.id = res.transactionId;
    const auth = (res.idTagInfo ?? res.idTokenInfo)?.status;
    if (auth && auth !== 'Accepted') {
      this.note(`transaction refused: id tag ${auth}`, true);
      return this.stopTransaction('DeAuthorized');
    }
    await this.sendStatus(P.chargingStatus(this.protocol), connectorId);
    this.restartMeter();
    this.setTxState('charging');
    return tx;
  }

  restartMeter() {
    clearInterval(this.timers.meter);
    this.timers.meter = this.tx ? setInterval(() => this.run('meter values', () => this.meterTick()), this.meterInterval * 1000) : 0;
  }
  // Energy from the time that really passed, so changing the interval or power keeps it right.
  advance() {
    const now = Date.now();
    const hours = (now - (this.lastTick ?? now)) / 3600e3;
    this.lastTick = now;
    const wh = this.powerW * hours;
    this.energyWh += wh;
    this.soc = Math.min(100, this.soc + (wh / BATTERY_WH) * 100);
    if (this.tx) this.tx.reading = this.reading();
    this.changed();
  }
  async meterTick(trigger = 'MeterValuePeriodic') {
    if (!this.tx) return;
    this.advance();
    if (!this.open || this.tx.id === null) return;  // offline: the register still counts
    const [action, payload] = P.updateTransaction(this.protocol, this.tx, trigger);
    await this.call(action, payload);
  }

  async stopTransaction(reason = 'Local') {
    const tx = this.tx;
    if (!tx) throw new Error('no transaction running');
    if (this.txState === 'stopping') return undefined;
    clearInterval(this.timers.meter);
    this.advance();
    this.setTxState('stopping');
    try {
      const [action, payload] = P.stopTransaction(this.protocol, tx, reason);
      await this.call(action, payload);
    } finally {
      this.tx = null;
      this.setTxState('idle');
    }
    if (this.v16) await this.sendStatus('Finishing', tx.connectorId);
    await this.sendStatus(this.pending.unavailable ? 'Unavailable' : 'Available', tx.connectorId);
    this.operative = this.operative && !this.pending.unavailable;
    this.pending.unavailable = false;
    if (this.pending.reset) {
      this.pending.reset = false;
      this.reboot();
    }
    return tx;
  }

  // --- the config store -----------------------------------------------------------------------
  setConfig(key, value) {
    const c = this.config.get(key);
    if (!c) return 'NotSupported';
    if (c.readonly) return 'Rejected';
    if (c.type === 'int' && !/^\d+$/.test(value)) return 'Rejected';
    if (c.type === 'bool' && !/^(true|false)$/i.test(value)) return 'Rejected';
    c.value = c.type === 'bool' ? value.toLowerCase() : value;
    if (key === 'HeartbeatInterval') this.restartHeartbeat();
    if (key === 'MeterValueSampleInterval') this.restartMeter();
    this.changed();
    return 'Accepted';
  }
  findVariable(component, variable) {
    const inComponent = CONFIG.filter((c) => c.component === component?.name);
    if (!inComponent.length) return { status: 'UnknownComponent' };
    const c = inComponent.find((x) => x.variable === variable?.name);
    return c ? { entry: this.config.get(c.key) } : { status: 'UnknownVariable' };
  }

  // --- what the CSMS may ask ------------------------------------------------------------------
  installHandlers(c) {
    const v16 = P.isV16(this.cfg.protocol);
    const on = (action, fn) => c.handle(action, (req) => fn(req.params ?? {}));
    const afterReply = (what, fn) => later(() => this.run(what, fn));

    on('Reset', (p) => {
      if (this.tx && !v16 && p.type === 'OnIdle') {
        this.pending.reset = true;
        return { status: 'Scheduled' };
      }
      afterReply('Reset', () => this.reboot(v16 ? `${p.type}Reset` : 'HardReset'));
      return { status: 'Accepted' };
    });
    on('TriggerMessage', (p) => {
      const connectorId = v16 ? p.connectorId : p.evse?.connectorId;
      const send = this.triggered(p.requestedMessage, connectorId);
      if (!send) return { status: v16 || p.requestedMessage !== 'TransactionEvent' ? 'NotImplemented' : 'Rejected' };
      afterReply(`TriggerMessage ${p.requestedMessage}`, send);
      return { status: 'Accepted' };
    });
    on('ChangeAvailability', (p) => {
      const operative = (v16 ? p.type : p.operationalStatus) === 'Operative';
      if (this.tx && !operative) {
        this.pending.unavailable = true;
        return { status: 'Scheduled' };
      }
      this.operative = operative;
      afterReply('ChangeAvailability', () => this.sendStatus(operative ? 'Available' : 'Unavailable'));
      return { status: 'Accepted' };
    });
    on(v16 ? 'RemoteStopTransaction' : 'RequestStopTransaction', (p) => {
      if (!this.tx || this.tx.id !== p.transactionId) return { status: 'Rejected' };
      afterReply('remote stop', () => this.stopTransaction('Remote'));
      return { status: 'Accepted' };
    });
    on('UnlockConnector', (p) => {
      if (p.connectorId !== this.connectorId) return { status: v16 ? 'NotSupported' : 'UnknownConnector' };
      if (this.tx && !v16) return { status: 'OngoingAuthorizedTransaction' };
      if (this.tx) afterReply('UnlockConnector', () => this.stopTransaction('UnlockCommand'));
      return { status: 'Unlocked' };
    });

    if (v16) {
      on('GetConfiguration', (p) => {
        const keys = p.key?.length ? p.key : [...this.config.keys()];
        const known = keys.filter((k) => this.config.has(k));
        const res = { configurationKey: known.map((k) => {
          const e = this.config.get(k);
          return { key: k, readonly: !!e.readonly, value: e.value };
        }) };
        const unknown = keys.filter((k) => !this.config.has(k));
        if (unknown.length) res.unknownKey = unknown;
        return res;
      });
      on('ChangeConfiguration', (p) => ({ status: this.setConfig(p.key, String(p.value)) }));
      on('RemoteStartTransaction', (p) => {
        if (this.tx || !this.operative) return { status: 'Rejected' };
        afterReply('RemoteStartTransaction', () => this.startTransaction({ idTag: p.idTag, connectorId: p.connectorId ?? this.connectorId, remote: true }));
        return { status: 'Accepted' };
      });
    } else {
      // Get/SetVariables: each item answered alone; `known` gives the status of one in the store.
      const variables = (items, known) => (items ?? []).map((d) => {
        const r = { component: d.component, variable: d.variable };
        if (d.attributeType) r.attributeType = d.attributeType;
        const { entry, status } = this.findVariable(d.component, d.variable);
        if (!entry) return { ...r, attributeStatus: status };
        if (d.attributeType && d.attributeType !== 'Actual') return { ...r, attributeStatus: 'NotSupportedAttributeType' };
        return { ...r, ...known(entry, d) };
      });
      on('GetVariables', (p) => ({ getVariableResult: variables(p.getVariableData,
        (entry) => ({ attributeStatus: 'Accepted', attributeValue: entry.value })) }));
      on('SetVariables', (p) => ({ setVariableResult: variables(p.setVariableData, (entry, d) => ({
        attributeStatus: this.setConfig(entry.key, String(d.attributeValue)) === 'Accepted' ? 'Accepted' : 'Rejected' })) }));
      on('RequestStartTransaction', (p) => {
        if (this.tx || !this.operative) return { status: 'Rejected' };
        const id = newTransactionId();
        afterReply('RequestStartTransaction', () => this.startTransaction({ idTag: p.idToken?.idToken, remote: true,
          remoteStartId: p.remoteStartId, id }));
        return { status: 'Accepted', transactionId: id };
      });
    }
  }

  // The message TriggerMessage asks for, as a function to run after the reply; null if unsupported.
  triggered(message, connectorId) {
    switch (message) {
      case 'BootNotification': return () => this.boot('Triggered');
      case 'Heartbeat': return () => this.heartbeat();
      case 'StatusNotification': return () => this.sendStatus(this.connectorStatus, connectorId ?? this.connectorId);
      case 'MeterValues':
        return () => {
          if (this.tx) this.advance();
          return this.call('MeterValues', P.meterValues(this.protocol, connectorId ?? this.connectorId, this.tx, this.reading(), 'Trigger'));
        };
      case 'TransactionEvent': return this.tx && !this.v16 ? () => this.meterTick('Trigger') : null;
      default: return null;
    }
  }

  // Reset: end the transaction, close, come back and boot again.
  async reboot(reason = 'HardReset') {
    if (this.tx) await this.run('stop before reset', () => this.stopTransaction(reason));
    this.note(`resetting (${reason})`);
    await this.disconnect();
    await new Promise((r) => later(r, 1000));
    await this.connect();
    await this.boot(this.v16 ? undefined : 'RemoteReset');
  }

  exportLog() {
    return { identity: this.cfg.identity, protocol: this.protocol, url: this.endpoint(), exportedAt: new Date().toISOString(),
      entries: this.log };
  }
}

let txCounter = 0;
function newTransactionId() {
  txCounter += 1;
  return `TX-${Date.now().toString(36).toUpperCase()}-${txCounter}`;
}

// =============================================================================================
// The page. Only the active station is shown; every station keeps its own state and log.
// =============================================================================================
const $ = (id) => document.getElementById(id);
const FIELDS = ['url', 'identity', 'protocol', 'password', 'vendor', 'model', 'serial', 'firmware'];

class Page {
  constructor(ocpp) {
    this.ocpp = ocpp;
    this.stations = [];
    this.active = null;
    this.renderScheduled = false;
  }

  defaultUrl() {
    if (!location.host) return 'ws://127.0.0.1:9000/';
    return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;
  }

  add(cfg = {}) {
    const n = this.stations.length + 1;
    const like = this.active?.cfg;  // a new tab talks to the same CSMS the same way
    const s = new Station({ url: like?.url ?? this.defaultUrl(), protocol: like?.protocol, strict: like?.strict,
      identity: `CP${String(n).padStart(3, '0')}`, ...cfg },
      { OcppClient: this.ocpp?.OcppClient });
    s.addEventListener('change', () => s === this.active ? this.scheduleRender() : this.renderTabs());
    s.addEventListener('log', (e) => { if (s === this.active) this.appendLog(e.detail); });
    this.stations.push(s);
    this.select(s);
    return s;
  }
  remove(s) {
    if (this.stations.length < 2) return;
    s.run('disconnect', () => s.disconnect());
    s.stopHeartbeat();
    clearInterval(s.timers.meter);
    const i = this.stations.indexOf(s);
    this.stations.splice(i, 1);
    this.select(this.stations[Math.max(0, i - 1)]);
  }
  select(s) {
    this.active = s;
    for (const f of FIELDS) $(f).value = s.cfg[f];
    $('strict').checked = s.cfg.strict;
    $('power').value = s.powerW;
    $('meter-interval').value = s.meterInterval;
    $('connector').value = s.connectorId;
    this.render();
    this.renderLog();
  }

  scheduleRender() {
    if (this.renderScheduled) return;
    this.renderScheduled = true;
    requestAnimationFrame(() => { this.renderScheduled = false; this.render(); });
  }

  renderTabs() {
    const tabs = $('tabs');
    tabs.querySelectorAll('.tab').forEach((t) => t.remove());
    this.stations.forEach((s, i) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'tab';
      b.setAttribute('role', 'tab');
      b.dataset.index = i;
      b.dataset.state = s.state;
      b.setAttribute('aria-selected', String(s === this.active));
      b.innerHTML = '<span class="dot"></span>';
      b.append(s.cfg.identity || '(no identity)');
      b.onclick = () => this.select(s);
      tabs.insertBefore(b, $('add-station'));
    });
    $('remove-station').disabled = this.stations.length < 2;
  }

  render() {
    const s = this.active;
    this.renderTabs();
    const connected = s.state !== 'closed';
    for (const f of [...FIELDS, 'strict']) $(f).disabled = connected;
    $('conn-state').textContent = s.state === 'open' ? `open · ${s.protocol}` : s.state;
    $('conn-state').dataset.state = s.state;
    $('connect').disabled = connected;
    $('disconnect').disabled = !connected;
    for (const id of ['boot', 'heartbeat', 'send-status', 'authorize', 'composer-send']) $(id).disabled = !s.open;
    $('start-tx').disabled = !s.open || !!s.tx;
    $('stop-tx').disabled = !s.tx || s.txState === 'stopping';
    const status = $('status');
    status.textContent = s.bootStatus || '—';
    status.dataset.status = s.bootStatus;
    status.className = s.bootStatus === 'Accepted' ? 'ok' : s.bootStatus ? 'bad' : '';
    $('hb-interval').textContent = s.heartbeatInterval > 0 ? s.heartbeatInterval : '—';
    $('notice').textContent = s.notice;
    $('notice').classList.toggle('error', s.notice.startsWith('⚠'));
    $('auth-result').textContent = s.authResult || '—';

    const statuses = P.connectorStatuses(s.protocol);
    const select = $('connector-status');
    if (select.dataset.protocol !== s.protocol) {
      select.replaceChildren(...statuses.map((x) => new Option(x, x)));
      select.dataset.protocol = s.protocol;
    }
    if (statuses.includes(s.connectorStatus)) select.value = s.connectorStatus;

    const txState = $('tx-state');
    txState.dataset.state = s.txState;
    txState.textContent = s.txState[0].toUpperCase() + s.txState.slice(1);
    $('tx-id').textContent = s.tx?.id != null ? `#${s.tx.id}` : '';
    const r = s.reading();
    $('meter-energy').textContent = (Math.round(r.energyWh * 10) / 10).toFixed(1);
    $('meter-power').textContent = Math.round(r.powerW);
    $('meter-soc').textContent = Math.round(r.soc);
    this.renderConfig();
  }

  renderConfig() {
    const s = this.active;
    const rows = [...s.config.values()].map((c) => {
      const tr = document.createElement('tr');
      tr.dataset.key = c.key;
      const name = s.v16 ? c.key : `${c.component}.${c.variable}`;
      tr.innerHTML = '<td></td><td></td><td></td>';
      tr.cells[0].textContent = name;
      tr.cells[1].textContent = c.value;
      tr.cells[2].textContent = c.readonly ? 'read-only' : '';
      return tr;
    });
    $('config').replaceChildren(...rows);
  }

  // --- the log --------------------------------------------------------------------------------
  matches(e) {
    if (!$(`log-filter-${e.dir}`).checked) return false;
    const q = $('log-search').value.trim().toLowerCase();
    if (!q) return true;
    return [e.action, e.type, e.messageId, e.raw].some((x) => x && String(x).toLowerCase().includes(q));
  }
  entryElement(e) {
    const li = document.createElement('li');
    li.className = `entry ${e.dir}`;
    li.dataset.dir = e.dir;
    li.dataset.type = e.type;
    li.dataset.action = e.action;
    const arrow = { in: '←', out: '→', sys: '•' }[e.dir];
    li.innerHTML = '<span class="time"></span><span class="arrow"></span><span class="type"></span>'
      + '<span class="action"></span><span class="latency"></span><code class="raw"></code>';
    li.children[0].textContent = e.time.slice(11, 23);
    li.children[1].textContent = arrow;
    li.children[2].textContent = e.type;
    li.children[3].textContent = e.dir === 'sys' ? e.raw : e.action;  // a note is its own text
    li.children[4].textContent = e.latencyMs != null ? `${Math.round(e.latencyMs)} ms` : '';
    li.children[5].textContent = e.raw;
    li.onclick = () => {
      li.classList.toggle('open');
      try {
        li.children[5].textContent = li.classList.contains('open') ? JSON.stringify(JSON.parse(e.raw), null, 2) : e.raw;
      } catch { /* a note, not JSON */ }
    };
    return li;
  }
  renderLog() {
    const shown = this.active.log.filter((e) => this.matches(e));
    $('log').replaceChildren(...shown.map((e) => this.entryElement(e)));
    $('log-count').textContent = shown.length;
    $('log').scrollTop = $('log').scrollHeight;
  }
  appendLog(e) {
    const log = $('log');
    const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    if (log.children.length >= MAX_LOG) log.firstChild.remove();
    if (this.matches(e)) log.append(this.entryElement(e));
    $('log-count').textContent = log.children.length;
    if (atBottom) log.scrollTop = log.scrollHeight;
  }
  exportLog() {
    const s = this.active;
    const blob = new Blob([JSON.stringify(s.exportLog(), null, 2)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `ocpp-log-${s.cfg.identity}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  // --- controls -------------------------------------------------------------------------------
  wire() {
    const s = () => this.active;
    const click = (id, what, fn) => { $(id).onclick = () => s().run(what, fn); };
    for (const f of FIELDS)
      $(f).oninput = () => {
        s().cfg[f] = $(f).value;
        if (f === 'protocol') this.render();
        if (f === 'identity') this.renderTabs();
      };
    $('strict').onchange = () => { s().cfg.strict = $('strict').checked; };
    $('add-station').onclick = () => this.add();
    $('remove-station').onclick = () => this.remove(s());
    click('connect', 'connect', () => s().connect());
    click('disconnect', 'disconnect', () => s().disconnect());
    click('boot', 'BootNotification', () => s().boot());
    click('heartbeat', 'Heartbeat', () => s().heartbeat());
    click('send-status', 'StatusNotification', () => s().sendStatus($('connector-status').value, s().connectorId));
    click('authorize', 'Authorize', () => s().authorize($('id-tag').value.trim()));
    click('start-tx', 'start transaction', () => s().startTransaction({ idTag: $('id-tag').value.trim() }));
    click('stop-tx', 'stop transaction', () => s().stopTransaction('Local'));
    $('connector').onchange = () => { s().connectorId = Math.max(1, Number($('connector').value) || 1); };
    $('power').onchange = () => {
      if (s().tx) s().advance();  // the energy so far at the old power
      s().powerW = Math.max(0, Number($('power').value) || 0);
      s().changed();
    };
    $('meter-interval').onchange = () => s().setConfig('MeterValueSampleInterval', String(Math.max(1, Math.round(Number($('meter-interval').value) || 10))));
    click('composer-send', 'CALL', () => this.compose());
    for (const id of ['log-filter-in', 'log-filter-out', 'log-filter-sys']) $(id).onchange = () => this.renderLog();
    $('log-search').oninput = () => this.renderLog();
    $('log-export').onclick = () => this.exportLog();
    $('log-clear').onclick = () => { s().log.length = 0; this.renderLog(); };
  }

  async compose() {
    const out = $('composer-result');
    const show = (outcome, text) => { out.dataset.outcome = outcome; out.textContent = text; };
    const action = $('composer-action').value.trim();
    let payload;
    try {
      payload = JSON.parse($('composer-payload').value || '{}');
    } catch (e) {
      return show('error', `Payload is not JSON: ${e.message}`);
    }
    const started = performance.now();
    try {
      const res = await this.active.call(action, payload);
      show('result', `CALLRESULT in ${Math.round(performance.now() - started)} ms\n${JSON.stringify(res, null, 2)}`);
    } catch (e) {
      const details = e.details && Object.keys(e.details).length ? `\n${JSON.stringify(e.details, null, 2)}` : '';
      show('error', `${e.name}: ${errorText(e)}${e.path ? ` at ${e.path}` : ''}${details}`);
    }
  }
}

async function main() {
  let ocpp = null;
  try {
    ocpp = await import('./ocpp.js');
    const { startupMs } = await ocpp.loadEngine();
    $('engine').textContent = `engine loaded in ${Math.round(startupMs)} ms`;
  } catch (e) {
    $('engine').textContent = `engine failed to load: ${e.message}`;
    $('engine').classList.add('error');
  }
  const page = new Page(ocpp);
  page.wire();
  const q = new URLSearchParams(location.search);
  const first = page.add({
    ...(q.get('url') ? { url: q.get('url') } : {}),
    ...(q.get('identity') ? { identity: q.get('identity') } : {}),
    ...(['ocpp1.6', 'ocpp2.0.1', 'ocpp2.1'].includes(q.get('protocol')) ? { protocol: q.get('protocol') } : {}),
    ...(q.get('password') ? { password: q.get('password') } : {}),
    strict: ['1', 'true'].includes(q.get('strict')),
  });
  if (q.get('meterInterval')) first.setConfig('MeterValueSampleInterval', q.get('meterInterval'));
  page.select(first);
  globalThis.simulator = page;  // for the console and tests
  if (['1', 'true'].includes(q.get('autostart')))
    await first.run('autostart', async () => { await first.connect(); await first.boot(); });
}

if (typeof document !== 'undefined') main();
