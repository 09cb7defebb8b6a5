// The live stream: polls /console/live.json every second and shows the newest first.
(function () {
  "use strict";
  const body = document.querySelector("#live tbody");
  const cell = (text) => { const td = document.createElement("td"); td.textContent = text; return td; };
  async function refresh() {
    try {
      const answer = await fetch("/console/live.json", { credentials: "same-origin" });
      if (!answer.ok) return;
      const rows = await answer.json();
      body.replaceChildren(...rows.map((d) => {
        const tr = document.createElement("tr");
        tr.dataset.event = d.event_id;
        const when = new Date(d.time * 1000).toISOString().replace("T", " ").slice(0, 19);
        const link = document.createElement("a");
        link.href = "/console/decisions/" + encodeURIComponent(d.event_id);
        link.textContent = d.event_id;
        const id = document.createElement("td");
        id.append(link);
        const outcome = cell(d.outcome);
        outcome.className = "outcome " + d.outcome;
        tr.append(cell(when), id, cell(d.type), outcome, cell(d.codes.join(", ")));
        return tr;
      }));
    } catch (e) { /* the server restarts: try again next tick */ }
  }
  refresh();
  setInterval(refresh, 1000);
})();
