// In-memory storage for oidc-provider, unbounded, with per-entry expiry.
//
// Why not the library's built-in memory adapter: it keeps at most ~1000 entries (an LRU of
// two generations of 1000), so the session, the grant and the access tokens made in the
// bench's setup phase are evicted as soon as the workload has issued a few hundred codes and
// tokens; and it indexes a grant's tokens in one Map that it rescans and spreads into
// Math.max(...) on every write, so each token costs O(tokens of that grant) and the process
// throws "Maximum call stack size exceeded" after ~120,000 tokens of one grant. Neither is a
// property of oidc-provider itself, only of its development adapter. This store keeps the
// same contract and semantics (entries live for expiresIn + clockTolerance seconds, the
// consume flag, the sessionUid and userCode indexes, revokeByGrantId) with O(1) operations,
// like the hub's own memory backend: a Map, a Set per grant and an expiry wheel swept once
// a second (each entry is visited once, when it expires).

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

const epochTime = () => Math.floor(Date.now() / 1000);

export function createMapStore({ clockTolerance = 15 } = {}) {
  const entries = new Map(); // key -> { value, expiresAt (ms), grantId }
  const grants = new Map(); // grantId -> Set of keys
  const wheel = new Map(); // second -> array of keys that may expire then
  let swept = epochTime();

  function unindexGrant(key, grantId) {
    const members = grants.get(grantId);
    if (members) {
      members.delete(key);
      if (members.size === 0) grants.delete(grantId);
    }
  }

  function remove(key) {
    const entry = entries.get(key);
    if (!entry) return;
    entries.delete(key);
    if (entry.grantId !== undefined) unindexGrant(key, entry.grantId);
    const { value } = entry;
    if (value && typeof value === 'object') {
      const id = key.slice(key.indexOf(':') + 1);
      if (value.uid !== undefined && key.startsWith('Session:')) {
        const uidKey = `sessionUid:${value.uid}`;
        if (entries.get(uidKey)?.value === id) entries.delete(uidKey);
      }
      if (value.userCode !== undefined) {
        const codeKey = `userCode:${value.userCode}`;
        if (entries.get(codeKey)?.value === id) entries.delete(codeKey);
      }
    }
  }

  function get(key) {
    const entry = entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      remove(key);
      return undefined;
    }
    return entry.value;
  }

  function schedule(key, expiresAt) {
    const second = Math.ceil(expiresAt / 1000);
    const slot = wheel.get(second);
    if (slot) slot.push(key);
    else wheel.set(second, [key]);
  }

  function set(key, value, expiresIn, grantId) {
    const previous = entries.get(key);
    if (previous?.grantId !== undefined && previous.grantId !== grantId) {
      unindexGrant(key, previous.grantId);
    }
    let expiresAt = Infinity;
    if (typeof expiresIn === 'number') {
      expiresAt = Date.now() + (expiresIn + clockTolerance) * 1000;
      // An entry already on the wheel for an earlier time is moved on by the sweep itself,
      // so re-saving a session on every request does not grow the wheel.
      if (!previous || previous.expiresAt === Infinity || expiresAt < previous.expiresAt) {
        schedule(key, expiresAt);
      }
    }
    entries.set(key, { value, expiresAt, grantId });
    if (grantId !== undefined) {
      let members = grants.get(grantId);
      if (!members) {
        members = new Set();
        grants.set(grantId, members);
      }
      members.add(key);
    }
  }

  function sweep() {
    const now = Date.now();
    const until = Math.floor(now / 1000);
    for (let second = swept; second <= until; second++) {
      const slot = wheel.get(second);
      if (!slot) continue;
      wheel.delete(second);
      for (const key of slot) {
        const entry = entries.get(key);
        if (!entry) continue;
        if (entry.expiresAt <= now) remove(key);
        else if (entry.expiresAt !== Infinity) schedule(key, entry.expiresAt);
      }
    }
    swept = until;
  }
  setInterval(sweep, 1000).unref();

  class MapAdapter {
    constructor(model) {
      this.model = model;
    }

    key(id) {
      return `${this.model}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      const grantId = GRANTABLE.has(this.model) ? payload.grantId : undefined;
      if (this.model === 'Session') {
        set(`sessionUid:${payload.uid}`, id, expiresIn);
      }
      if (payload.userCode) {
        set(`userCode:${payload.userCode}`, id, expiresIn);
      }
      set(this.key(id), payload, expiresIn, grantId);
    }

    async find(id) {
      return get(this.key(id));
    }

    async findByUid(uid) {
      const id = get(`sessionUid:${uid}`);
      return id === undefined ? undefined : this.find(id);
    }

    async findByUserCode(userCode) {
      const id = get(`userCode:${userCode}`);
      return id === undefined ? undefined : this.find(id);
    }

    async consume(id) {
      const value = get(this.key(id));
      if (value) value.consumed = epochTime();
    }

    async destroy(id) {
      remove(this.key(id));
    }

    async revokeByGrantId(grantId) {
      const members = grants.get(grantId);
      if (!members) return;
      for (const key of [...members]) remove(key);
      grants.delete(grantId);
    }
  }

  return {
    Adapter: MapAdapter,
    stats: () => ({ entries: entries.size, grants: grants.size }),
  };
}
