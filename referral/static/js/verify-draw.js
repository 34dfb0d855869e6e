// Re-derives a prize draw in the browser from its published JSON, exactly as docs/DRAWS.md
// ("referral-draw-v1") says: WebCrypto for SHA-256 and HMAC-SHA256, BigInt for the 256-bit
// arithmetic. Nothing here trusts the server's own verdict.
(function () {
  "use strict";

  var ALGORITHM = "referral-draw-v1";
  var SPACE = 1n << 256n;
  var encoder = new TextEncoder();

  function hexToBytes(hex) {
    if (typeof hex !== "string" || !/^[0-9a-f]{64}$/.test(hex)) return null;
    var out = new Uint8Array(32);
    for (var i = 0; i < 32; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }

  function bytesToHex(bytes) {
    return Array.prototype.map
      .call(new Uint8Array(bytes), function (b) { return b.toString(16).padStart(2, "0"); })
      .join("");
  }

  function bytesToBigInt(bytes) {
    return BigInt("0x" + (bytesToHex(bytes) || "0"));
  }

  function concat(parts) {
    var size = parts.reduce(function (n, p) { return n + p.length; }, 0);
    var out = new Uint8Array(size);
    var at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }

  function compareBytes(a, b) {
    for (var i = 0; i < Math.min(a.length, b.length); i++) {
      if (a[i] !== b[i]) return a[i] - b[i];
    }
    return a.length - b.length;
  }

  function sha256(bytes) {
    return crypto.subtle.digest("SHA-256", bytes).then(function (d) { return new Uint8Array(d); });
  }

  // Entries sorted by the UTF-8 bytes of their id; weights as BigInt.
  function canonical(entries) {
    return entries
      .map(function (e) { return { id: e.id, weight: BigInt(e.weight), key: encoder.encode(e.id) }; })
      .sort(function (a, b) { return compareBytes(a.key, b.key); });
  }

  function canonicalText(ordered) {
    return encoder.encode(ordered.map(function (e) { return e.id + ":" + e.weight + "\n"; }).join(""));
  }

  function counter(k) {
    var out = new Uint8Array(8);
    var value = BigInt(k);
    for (var i = 7; i >= 0; i--) { out[i] = Number(value & 255n); value >>= 8n; }
    return out;
  }

  async function runDraw(seed, digest, ordered, winners, alternates, beacon) {
    var randomness = await sha256(concat([seed, digest, encoder.encode(beacon)]));
    var key = await crypto.subtle.importKey(
      "raw", randomness, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]
    );
    var remaining = ordered.slice();
    var picked = [];
    var k = 0;
    while (picked.length < winners + alternates && remaining.length) {
      var h = new Uint8Array(await crypto.subtle.sign("HMAC", key, counter(k)));
      k += 1;
      var x = bytesToBigInt(h);
      var total = remaining.reduce(function (n, e) { return n + e.weight; }, 0n);
      if (x >= (SPACE / total) * total) continue; // rejection sampling: no modulo bias
      var r = x % total;
      var running = 0n;
      for (var i = 0; i < remaining.length; i++) {
        running += remaining[i].weight;
        if (running > r) { picked.push(remaining[i].id); remaining.splice(i, 1); break; }
      }
    }
    return { winners: picked.slice(0, winners), alternates: picked.slice(winners) };
  }

  function same(a, b) {
    return Array.isArray(b) && a.length === b.length && a.every(function (v, i) { return v === b[i]; });
  }

  async function verify(record) {
    var checks = [];
    if (record.algorithm !== ALGORITHM) return [{ name: "algorithm", ok: false }];
    var seed = hexToBytes(record.seed);
    var digest = hexToBytes(record.entries_digest);
    if (!seed || !digest || !Array.isArray(record.entries)) return [{ name: "record", ok: false }];
    var commitment = bytesToHex(await sha256(seed));
    checks.push({ name: "commitment", ok: commitment === record.commitment });
    var ordered = canonical(record.entries);
    var computed = bytesToHex(await sha256(canonicalText(ordered)));
    checks.push({ name: "entries_digest", ok: computed === record.entries_digest });
    var result = await runDraw(
      seed, digest, ordered, record.winners_count, record.alternates_count, record.beacon || ""
    );
    checks.push({ name: "winners", ok: same(result.winners, record.winners) });
    checks.push({ name: "alternates", ok: same(result.alternates, record.alternates) });
    return checks;
  }

  function show(box, list, checks) {
    var failed = checks.filter(function (c) { return !c.ok; });
    box.dataset.state = failed.length ? "failed" : "verified";
    box.textContent = failed.length
      ? "✗ " + box.dataset.textFailed + " " + failed.map(function (c) { return c.name; }).join(", ")
      : "✓ " + box.dataset.textVerified;
    list.textContent = "";
    checks.forEach(function (c) {
      var item = document.createElement("li");
      item.textContent = (c.ok ? "✓ " : "✗ ") + c.name;
      item.dataset.check = c.name;
      list.appendChild(item);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("browser-verdict");
    var list = document.getElementById("browser-checks");
    if (!box) return;
    if (!window.crypto || !crypto.subtle || typeof BigInt !== "function") {
      box.dataset.state = "failed";
      box.textContent = box.dataset.textUnsupported;
      return;
    }
    box.textContent = box.dataset.textPending;
    fetch(box.dataset.recordUrl, { credentials: "omit" })
      .then(function (response) { return response.json(); })
      .then(verify)
      .then(function (checks) { show(box, list, checks); })
      .catch(function (error) {
        box.dataset.state = "failed";
        box.textContent = "✗ " + box.dataset.textFailed + " " + String(error);
      });
  });
})();
