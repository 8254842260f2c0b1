// certexport console: the download dialog offers only what goes together.
// Every page works without this script; the server checks everything again.
"use strict";
(function () {
  var form = document.getElementById("download");
  if (!form) { return; }
  var format = form.querySelector("#format");
  var extension = form.querySelector("#extension");
  var chain = form.querySelector("#include_chain");
  var order = form.querySelector("#order");
  var header = form.querySelector("#subject_header");
  var key = form.querySelector("#key");
  var password = form.querySelector("#password");
  var again = form.querySelector("#password_again");

  // The file extensions the format takes (data-extensions), the first the default.
  function offerExtensions() {
    var option = format.options[format.selectedIndex];
    var wanted = option.getAttribute("data-extensions").split(" ");
    var current = extension.value;
    while (extension.options.length) { extension.remove(0); }
    wanted.forEach(function (ext) {
      var o = document.createElement("option");
      o.value = ext;
      o.textContent = "." + ext;
      extension.appendChild(o);
    });
    extension.value = wanted.indexOf(current) >= 0 ? current : wanted[0];
  }

  // The chain: DER, CER and CRT hold one certificate, P7B always holds the
  // chain, a key alone none. Subject lines only in PEM text.
  function offerOptions() {
    var value = format.value;
    var option = format.options[format.selectedIndex];
    var keyKind = option.getAttribute("data-key");
    var noChain = value === "DER" || value === "CER" || value === "CRT" || keyKind === "only";
    if (noChain) { chain.checked = false; }
    if (value === "P7B") { chain.checked = true; }
    chain.disabled = noChain || value === "P7B";
    order.disabled = !chain.checked;
    header.disabled = value === "DER" || value === "P7B" || value === "PFX" || keyKind === "only";
    if (key) {
      key.disabled = keyKind === "none";
      key.hidden = keyKind === "none";
      password.required = keyKind !== "none";
      again.required = keyKind !== "none";
    }
  }

  function checkPasswords() {
    if (!again) { return; }
    again.setCustomValidity(again.value === password.value ? "" : "The two passwords differ.");
  }

  // A disabled checkbox is not sent: P7B's chain must still go. The
  // passwords are cleared once the form has gone, so the page keeps none.
  form.addEventListener("submit", function () {
    if (format.value === "P7B") { chain.disabled = false; }
    if (password) {
      setTimeout(function () { password.value = ""; again.value = ""; }, 0);
    }
  });
  format.addEventListener("change", function () { offerExtensions(); offerOptions(); });
  chain.addEventListener("change", offerOptions);
  if (password) {
    password.addEventListener("input", checkPasswords);
    again.addEventListener("input", checkPasswords);
  }
  offerExtensions();
  offerOptions();
}());
