/* Centauro panel: live character, segment and cost counter for the send form.
   Counts exactly as src/centauro/domain/text.py does (a unit test compares the two
   alphabets below with the server's): GSM-7 when every character is in the GSM 03.38
   alphabet or its extension (extension characters take 2 septets), otherwise UCS-2
   (UTF-16 units: an emoji takes 2). One SMS holds 160 septets or 70 units; a part of a
   longer message 153 or 67, cut greedily, never inside a 2-unit character.
   The server stays the authority: it recounts when the form is sent. */
(function () {
  "use strict";
  var GSM7_BASIC = "\n\r\u001b !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz\u00a1\u00a3\u00a4\u00a5\u00a7\u00bf\u00c4\u00c5\u00c6\u00c7\u00c9\u00d1\u00d6\u00d8\u00dc\u00df\u00e0\u00e4\u00e5\u00e6\u00e8\u00e9\u00ec\u00f1\u00f2\u00f6\u00f8\u00f9\u00fc\u0393\u0394\u0398\u039b\u039e\u03a0\u03a3\u03a6\u03a8\u03a9";
  var GSM7_EXTENSION = "\f[\\]^{|}~\u20ac";

  function measure(text) {
    var chars = Array.from(text);
    var gsm = chars.every(function (c) {
      return GSM7_BASIC.indexOf(c) >= 0 || GSM7_EXTENSION.indexOf(c) >= 0;
    });
    var sizes = chars.map(function (c) {
      if (gsm) { return GSM7_EXTENSION.indexOf(c) >= 0 ? 2 : 1; }
      return c.length;
    });
    var units = sizes.reduce(function (a, b) { return a + b; }, 0);
    var single = gsm ? 160 : 70;
    var part = gsm ? 153 : 67;
    var segments = 1;
    if (units > single) {
      segments = 1;
      var used = 0;
      sizes.forEach(function (s) {
        if (used + s > part) { segments += 1; used = s; } else { used += s; }
      });
    }
    return { gsm: gsm, chars: chars.length, units: units, segments: segments };
  }

  function culprits(text) {
    return Array.from(new Set(Array.from(text).filter(function (c) {
      return GSM7_BASIC.indexOf(c) < 0 && GSM7_EXTENSION.indexOf(c) < 0;
    }))).slice(0, 5);
  }

  function plural(n, one, many) { return n + " " + (n === 1 ? one : many); }

  function update(box, out) {
    var text = box.value;
    var m = measure(text);
    var parts = [
      plural(m.chars, "carácter", "caracteres"),
      m.gsm ? "GSM-7" : "Unicode (UCS-2)",
      plural(m.segments, "segmento", "segmentos"),
      "costo: " + plural(m.segments, "crédito", "créditos")
    ];
    out.textContent = parts.join(" · ");
    var why = document.getElementById(out.getAttribute("data-why"));
    if (!why) { return; }
    if (m.gsm) { why.textContent = ""; return; }
    var asGsm = measure(Array.from(text).filter(function (c) {
      return GSM7_BASIC.indexOf(c) >= 0 || GSM7_EXTENSION.indexOf(c) >= 0;
    }).join(""));
    var msg = "Por " + culprits(text).join(" ") + " el mensaje va en Unicode: cada SMS " +
      "lleva hasta 70 caracteres (67 si son varios) en vez de 160 (153), y un emoji " +
      "cuenta como 2.";
    if (asGsm.segments < m.segments) {
      msg += " Sin esos caracteres serían " + plural(asGsm.segments, "segmento", "segmentos") +
        " en lugar de " + m.segments + ".";
    }
    why.textContent = msg;
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = { measure: measure };  // for the unit test that runs it under Node
    return;
  }
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("text");
    var out = document.getElementById("counter");
    if (!box || !out) { return; }
    box.addEventListener("input", function () { update(box, out); });
    update(box, out);
  });
}());
