// The /docs page's script: hand-written, embedded by shared/apidoc. The
// page reads without it; it adds search, copy buttons and this server's
// own address in the curl commands.
(function () {
  "use strict";
  var base = location.origin && location.origin !== "null" ? location.origin : "http://localhost:8080";
  var pres = document.querySelectorAll("pre.curl");
  pres.forEach(function (pre) {
    var code = pre.querySelector("code");
    if (base !== "http://localhost:8080") {
      code.textContent = code.textContent.split("http://localhost:8080").join(base);
    }
    var b = document.createElement("button");
    b.type = "button";
    b.className = "copy";
    b.textContent = "Copy";
    b.addEventListener("click", function () {
      var done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy"; }, 1200); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(code.textContent).then(done, function () { select(code); });
      } else {
        select(code);
      }
    });
    pre.appendChild(b);
  });
  function select(el) {
    var r = document.createRange();
    r.selectNodeContents(el);
    var s = window.getSelection();
    s.removeAllRanges();
    s.addRange(r);
  }

  var sections = Array.prototype.slice.call(document.querySelectorAll("section.op"));
  var links = {};
  document.querySelectorAll("nav li[data-for]").forEach(function (li) { links[li.getAttribute("data-for")] = li; });
  var q = document.getElementById("q");
  var count = document.getElementById("count");
  function filter() {
    var words = q.value.toLowerCase().split(/\s+/).filter(Boolean);
    var shown = 0;
    sections.forEach(function (s) {
      var text = s.getAttribute("data-search");
      var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
      s.classList.toggle("hidden", !ok);
      if (links[s.id]) links[s.id].classList.toggle("hidden", !ok);
      if (ok) shown++;
    });
    count.textContent = words.length ? shown + " of " + sections.length + " operations match" : sections.length + " operations";
    if (history.replaceState) {
      history.replaceState(null, "", (q.value ? "?q=" + encodeURIComponent(q.value) : location.pathname) + location.hash);
    }
  }
  var params = new URLSearchParams(location.search);
  if (params.get("q")) q.value = params.get("q");
  q.addEventListener("input", filter);
  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && document.activeElement !== q) { e.preventDefault(); q.focus(); }
  });
  filter();
})();
