// kefu page behaviour. No inline scripts anywhere: the content-security-policy forbids them.
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
