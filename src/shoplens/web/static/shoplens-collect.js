/*
 * shoplens first-party event snippet.
 *
 *   <script src="https://collector.example/collect/v1/snippet.js" defer></script>
 *
 * It sends NOTHING until the visitor has consented: call window.shoplens.consent(true) from your consent banner,
 * or set window.shoplensConsent = true before the script loads. Events tracked before that are dropped, not
 * queued. When the browser says Do-Not-Track (navigator.doNotTrack "1") or Global Privacy Control
 * (navigator.globalPrivacyControl true) it sends nothing at all, whatever the consent.
 *
 *   shoplens.track("product_view", {product_id: "SKU-1"});   // page_view, product_view, cart, checkout,
 *   shoplens.pageView();                                      // shipping_view, order, registration
 *   shoplens.identify("C-1001");                              // the shop's customer id, after login
 *
 * Options (window.shoplensCollect = {...} before the script, or data-* attributes on the script tag):
 * endpoint (default: events next to this script), autoPageView (default true: one page_view once consented).
 * Events go in small batches with navigator.sendBeacon (fetch with keepalive where beacons are refused), each
 * with its own id (crypto.randomUUID) and the tab's session id, kept in sessionStorage.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var options = window.shoplensCollect || {};
  var data = (script && script.dataset) || {};
  var endpoint = options.endpoint || data.endpoint ||
    (script && script.src ? script.src.replace(/snippet\.js(\?.*)?$/, "events") : "/collect/v1/events");
  var autoPageView = String(options.autoPageView !== undefined ? options.autoPageView : (data.autoPageView || "true")) !== "false";
  var SESSION_KEY = "shoplens_session_id";
  var TYPES = ["page_view", "product_view", "cart", "checkout", "shipping_view", "order", "registration"];
  var FIELDS = ["page", "product_id", "source", "medium", "campaign", "device", "customer_id"];
  var consented = window.shoplensConsent === true;
  var customerId = null;
  var queue = [];
  var timer = null;
  var pageViewSent = false;

  function optedOut() {
    var dnt = navigator.doNotTrack || window.doNotTrack || navigator.msDoNotTrack;
    return dnt === "1" || dnt === "yes" || navigator.globalPrivacyControl === true;
  }

  function allowed() {
    return consented && !optedOut();
  }

  function newId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function sessionId() {
    var id = null;
    try {
      id = window.sessionStorage.getItem(SESSION_KEY);
      if (!id) {
        id = newId();
        window.sessionStorage.setItem(SESSION_KEY, id);
      }
    } catch (unavailable) {
      id = id || (window.__shoplensSession = window.__shoplensSession || newId());
    }
    return id;
  }

  function campaignFields() {
    var found = {};
    try {
      var params = new URLSearchParams(window.location.search);
      if (params.get("utm_source")) { found.source = params.get("utm_source"); }
      if (params.get("utm_medium")) { found.medium = params.get("utm_medium"); }
      if (params.get("utm_campaign")) { found.campaign = params.get("utm_campaign"); }
    } catch (ignored) { /* old browsers: no campaign fields */ }
    return found;
  }

  function device() {
    return /Mobi|Android/i.test(navigator.userAgent) ? "mobile" : "desktop";
  }

  function send(events) {
    var body = JSON.stringify({events: events});
    // text/plain keeps the request "simple": no CORS preflight, and beacons are allowed to send it.
    var sent = false;
    if (navigator.sendBeacon) {
      try {
        sent = navigator.sendBeacon(endpoint, new Blob([body], {type: "text/plain;charset=UTF-8"}));
      } catch (refused) {
        sent = false;
      }
    }
    if (!sent && window.fetch) {
      window.fetch(endpoint, {
        method: "POST", body: body, keepalive: true, credentials: "omit", mode: "cors",
        headers: {"Content-Type": "text/plain;charset=UTF-8"}
      }).catch(function () { /* offline: the events are lost, as a page view would be */ });
    }
  }

  function flush() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (!queue.length) { return; }
    if (!allowed()) { queue = []; return; }
    while (queue.length) { send(queue.splice(0, 20)); }
  }

  function track(type, properties) {
    if (!allowed() || TYPES.indexOf(type) < 0) { return false; }
    var event = {event_id: newId(), type: type, at: new Date().toISOString(), session_id: sessionId(),
      page: window.location.pathname + window.location.search, device: device()};
    var campaign = campaignFields();
    for (var key in campaign) { event[key] = campaign[key]; }
    if (customerId) { event.customer_id = customerId; }
    properties = properties || {};
    for (var i = 0; i < FIELDS.length; i++) {
      if (properties[FIELDS[i]] !== undefined && properties[FIELDS[i]] !== null) {
        event[FIELDS[i]] = String(properties[FIELDS[i]]);
      }
    }
    queue.push(event);
    if (queue.length >= 20) { flush(); } else if (!timer) { timer = setTimeout(flush, 500); }
    return true;
  }

  function pageView() {
    pageViewSent = track("page_view") || pageViewSent;
    return pageViewSent;
  }

  function consent(granted) {
    consented = granted === true;
    if (!consented) { queue = []; return; }
    if (autoPageView && !pageViewSent) { pageView(); }
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flush(); }
  });
  window.addEventListener("pagehide", flush);

  window.shoplens = {
    consent: consent,
    track: track,
    pageView: pageView,
    identify: function (id) { customerId = id === null || id === undefined ? null : String(id); },
    flush: flush,
    optedOut: optedOut
  };
  if (consented && autoPageView) { pageView(); }
})();
