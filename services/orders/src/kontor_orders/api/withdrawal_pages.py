"""What the customer reads of the withdrawal function (Vertrag widerrufen): the
minimal HTML form served at ``GET /withdrawals`` and the German confirmation text.

Presentation only: no data access, no rules (those are in ``domain/returns.py``).
"""

from __future__ import annotations

from datetime import datetime

from kontor_servicekit.clock import BERLIN


def confirmation_message(order_number: str, received_at: datetime) -> str:
    """The receipt of the declaration, in Berlin time (what the customer keeps)."""
    local = received_at.astimezone(BERLIN)
    return (
        f"Ihr Widerruf zur Bestellung {order_number} ist am "
        f"{local:%d.%m.%Y} um {local:%H:%M:%S} Uhr eingegangen."
    )


WITHDRAWAL_FORM = """<!doctype html>
<html lang="de"><head><meta charset="utf-8"><title>Vertrag widerrufen</title></head>
<body>
<h1>Vertrag widerrufen</h1>
<p>Hier können Sie Ihren Vertrag widerrufen. Geben Sie Ihre Bestellnummer und die
E-Mail-Adresse Ihrer Bestellung an. Im zweiten Schritt bestätigen Sie den Widerruf.</p>
<form id="identify">
  <label>Bestellnummer <input name="order_number" required></label><br>
  <label>E-Mail-Adresse <input name="email" type="email" required></label><br>
  <button type="submit">Weiter</button>
</form>
<div id="step2" hidden>
  <p id="summary"></p>
  <button id="confirm">Vertrag widerrufen</button>
</div>
<p id="result" role="status"></p>
<script>
let pending = null;
const show = (text) => { document.getElementById("result").textContent = text; };
document.getElementById("identify").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const r = await fetch("withdrawals", {method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({order_number: form.get("order_number"), email: form.get("email")})});
  const body = await r.json();
  if (!r.ok) { show(body.detail || body.title); return; }
  pending = body;
  document.getElementById("summary").textContent = "Widerruf für " + body.lines.map(
    l => l.quantity + " x " + l.sku).join(", ");
  document.getElementById("step2").hidden = false;
});
document.getElementById("confirm").addEventListener("click", async () => {
  const r = await fetch(pending.confirm_with.slice(1), {method: "POST"});
  const body = await r.json();
  show(r.ok ? body.message : (body.detail || body.title));
});
</script>
</body></html>
"""
