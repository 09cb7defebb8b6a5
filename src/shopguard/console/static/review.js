// The review queue: "all on this page" ticks every case for the bulk verdict.
(function () {
  "use strict";
  const all = document.getElementById("all");
  if (!all) return;
  all.addEventListener("change", () => {
    for (const box of document.querySelectorAll('input[name="case"]')) box.checked = all.checked;
  });
})();
