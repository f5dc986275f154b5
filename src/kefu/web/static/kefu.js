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
    }
  }
});
