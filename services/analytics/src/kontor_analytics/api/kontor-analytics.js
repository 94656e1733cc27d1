/* Kontor analytics: sends GA4-shaped events to POST /collect. Sets no cookie.
 * <script src="https://analytics.example/collect/snippet.js"
 *         data-endpoint="https://analytics.example/collect" data-measurement-id="G-KONTOR"></script>
 * kontor("view_item", {currency: "EUR", value: 19.99, items: [{item_id: "TEE-RED-M"}]});
 * From another origin than the service's, that origin must be in the service's
 * collect_allowed_origins (CORS). The client id lives in sessionStorage (this tab only) unless the page sets
 * window.kontorClientId (e.g. from the shop's own consented GA cookie). */
(function () {
  "use strict";
  var script = document.currentScript;
  var endpoint = (script && script.dataset.endpoint) || "/collect";
  var measurementId = (script && script.dataset.measurementId) || "G-KONTOR";
  var consent = (script && script.dataset.consent) || null;
  function clientId() {
    if (window.kontorClientId) { return String(window.kontorClientId); }
    var key = "kontor_client_id", id = null;
    try { id = window.sessionStorage.getItem(key); } catch (e) { id = null; }
    if (!id) {
      id = Math.floor(Math.random() * 1e9) + "." + Math.floor(Date.now() / 1000);
      try { window.sessionStorage.setItem(key, id); } catch (e) { /* private mode */ }
    }
    return id;
  }
  function send(name, params) {
    var p = Object.assign({page_location: location.href, page_referrer: document.referrer}, params || {});
    var body = {client_id: clientId(), events: [{name: name, params: p, timestamp_micros: Date.now() * 1000}]};
    if (window.kontorUserId) { body.user_id = String(window.kontorUserId); }
    if (consent) { body.consent = {analytics_storage: consent}; }
    var url = endpoint + "?measurement_id=" + encodeURIComponent(measurementId);
    return fetch(url, {method: "POST", keepalive: true, credentials: "omit",
                       headers: {"content-type": "application/json"}, body: JSON.stringify(body)});
  }
  window.kontor = send;
  if (!(script && script.dataset.noPageView)) { send("page_view", {}); }
})();
