// kefu page behaviour.
// SLA countdowns: minutes left until data-due, red once overdue; updated every 30 seconds.
// (Round-the-clock arithmetic; the server's figure, on the clock's calendar, is shown on load.)
function updateCountdowns() {
  for (const el of document.querySelectorAll(".countdown[data-due]")) {
    const minutes = Math.floor((Date.parse(el.dataset.due) - Date.now()) / 60000);
    const abs = Math.abs(minutes);
    const text = (abs >= 60 ? Math.floor(abs / 60) + " " + el.dataset.h + " " : "") + (abs % 60) + " " + el.dataset.min;
    el.textContent = minutes < 0 ? el.dataset.overdue + " " + text : text;
    el.classList.toggle("overdue", minutes < 0);
  }
}
document.addEventListener("DOMContentLoaded", () => {
  updateCountdowns();
  setInterval(updateCountdowns, 30000);
});
// No inline scripts anywhere: the content-security-policy forbids them.
document.addEventListener("click", (event) => {
  const pick = event.target.closest("button.pick[data-customer-id]");
  if (pick) {
    const field = document.getElementById("customer_id");
    if (field) {
      field.value = pick.dataset.customerId;
      const picked = document.getElementById("picked-customer");
      if (picked) picked.textContent = pick.textContent.trim();
      field.focus();
      document.body.dispatchEvent(new Event("picked"));  // e.g. the promised-time preview
    }
  }
});

// Lists: j / k move the selection, Enter opens it, "/" jumps to the search box.
function rows() { return Array.from(document.querySelectorAll("#work-order-table tbody tr")).filter(r => r.querySelector("a")); }
function select(index) {
  const all = rows();
  if (!all.length) return;
  const i = Math.max(0, Math.min(all.length - 1, index));
  all.forEach(r => r.classList.remove("selected"));
  all[i].classList.add("selected");
  all[i].querySelector("a").focus();
}
document.addEventListener("keydown", (event) => {
  const tag = (event.target.tagName || "").toLowerCase();
  if (tag === "input" || tag === "textarea" || tag === "select" || event.ctrlKey || event.metaKey || event.altKey) return;
  const all = rows();
  const current = all.findIndex(r => r.classList.contains("selected"));
  if (event.key === "j") { select(current + 1); event.preventDefault(); }
  else if (event.key === "k") { select(current < 0 ? 0 : current - 1); event.preventDefault(); }
  else if (event.key === "Enter" && current >= 0) { window.location = all[current].querySelector("a").href; }
  else if (event.key === "/") { const q = document.getElementById("q"); if (q) { q.focus(); event.preventDefault(); } }
});
// Dashboard charts (ECharts, served by kefu): data in data-chart, drawn again after each refresh.
function drawCharts(root) {
  if (typeof echarts === "undefined") return;
  for (const el of (root || document).querySelectorAll(".chart[data-chart]")) {
    const data = JSON.parse(el.dataset.chart);
    const chart = echarts.getInstanceByDom(el) || echarts.init(el);
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      // The legend on top and the grid holding its (rotated) axis labels: nothing overlaps.
      legend: { data: [el.dataset.today, el.dataset.week], top: 0 },
      grid: { left: 10, right: 10, bottom: 10, top: 36, containLabel: true },
      xAxis: { type: "category", data: data.labels, axisLabel: { interval: 0, rotate: data.labels.length > 5 ? 30 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [
        { name: el.dataset.today, type: "bar", data: data.today },
        { name: el.dataset.week, type: "bar", data: data.week },
      ],
    });
  }
}
window.addEventListener("load", () => drawCharts());
document.addEventListener("htmx:afterSwap", (event) => drawCharts(event.target));

// Times are shown in the user's timezone: tell the server once (a cookie); the next page uses it.
(function () {
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && !document.cookie.split("; ").includes("kefu_tz=" + zone)) {
    document.cookie = "kefu_tz=" + zone + "; path=/; max-age=31536000; samesite=lax";
  }
})();

// Bulk actions on the list: select all on the page, the count selected, the fields of the chosen action.
function bulkRefresh() {
  const form = document.getElementById("bulk");
  if (!form) return;
  const count = form.querySelectorAll("input[name=items]:checked").length;
  const shown = document.getElementById("selected-count");
  if (shown) shown.textContent = count;
  const action = document.getElementById("bulk-action");
  for (const part of form.querySelectorAll(".bulk-part")) {
    part.hidden = !action || part.dataset.for !== action.value;
    part.querySelectorAll("input, select").forEach((el) => { el.disabled = part.hidden; });
  }
  const submit = document.getElementById("bulk-submit");
  if (submit) submit.disabled = count === 0;
}
document.addEventListener("change", (event) => {
  if (event.target.id === "select-all") {
    document.querySelectorAll("#bulk input[name=items]").forEach((box) => { box.checked = event.target.checked; });
  }
  if (event.target.closest("#bulk")) bulkRefresh();
});
document.addEventListener("DOMContentLoaded", bulkRefresh);
// The reply form: choosing a canned reply puts its text (filled in for this work order) in the
// text box, to send as it is or adjust; a text the agent typed is not overwritten.
document.addEventListener("change", (event) => {
  const select = event.target.closest("select#reply-canned");
  if (!select) return;
  const body = document.getElementById("reply-body");
  const option = select.selectedOptions[0];
  if (!body || !option) return;
  if (!body.value.trim() || body.dataset.canned === "1") {
    body.value = option.dataset.body || "";
    body.dataset.canned = body.value ? "1" : "";
  }
});
document.addEventListener("input", (event) => {
  if (event.target.id === "reply-body") event.target.dataset.canned = "";
});
