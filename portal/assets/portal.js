// The Hookflow subscriber portal. Plain JavaScript, no framework and no
// build: the page is small and should outlive any front-end fashion.
//
// Rules this file keeps:
//   - The token comes in the URL fragment (#token=...&app=...), which no
//     browser sends to a server. It is moved to sessionStorage (this tab
//     only, gone when it closes) and wiped from the address bar at once.
//   - It is sent only as "Authorization: Bearer" to the application's own
//     routes under /v1/applications/{app}/; never in a URL.
//   - Every value from the API is put on the page with textContent or as
//     an attribute value: never as markup. A receiver's answer such as
//     <script>alert(1)</script> shows as those characters.
'use strict';

(function () {
  const STORAGE_KEY = 'hookflow.portal';
  const PAGE = 20;
  let session = null; // {token, app}

  // ---- session -----------------------------------------------------------

  function readSession() {
    const frag = new URLSearchParams(window.location.hash.slice(1));
    if (frag.get('token') && frag.get('app')) {
      session = { token: frag.get('token'), app: frag.get('app') };
      try {
        window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
      } catch (e) {
        // Storage refused (private mode): the token lives in memory only.
      }
    } else {
      try {
        session = JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || 'null');
      } catch (e) {
        session = null;
      }
    }
    if (window.location.hash) {
      window.history.replaceState(null, '', window.location.pathname);
    }
  }

  function signOut(title, text) {
    session = null;
    try {
      window.sessionStorage.removeItem(STORAGE_KEY);
    } catch (e) {
      // nothing kept
    }
    document.getElementById('main').hidden = true;
    document.getElementById('tabs').hidden = true;
    document.getElementById('notice').hidden = true;
    document.getElementById('error').hidden = true;
    document.getElementById('app-name').textContent = '';
    document.getElementById('signed-out-title').textContent = title;
    document.getElementById('signed-out-text').textContent = text;
    document.getElementById('signed-out').hidden = false;
  }

  function expired() {
    signOut('This link has expired',
      'Your portal link has expired or was revoked. Ask the service that gave it to you for a new link.');
  }

  // ---- API ---------------------------------------------------------------

  class APIError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  function describe(status, err) {
    if (!err) {
      return 'The server answered ' + status + ' without an explanation.';
    }
    let msg = err.message || err.code || ('status ' + status);
    if (Array.isArray(err.details) && err.details.length) {
      msg += ':\n' + err.details.map(function (d) {
        return '  ' + (d.field ? d.field + ': ' : '') + (d.message || d.rule || '');
      }).join('\n');
    }
    return msg;
  }

  // api calls route (under /v1/applications/{app}) with the token; 401
  // ends the session and shows the expired page.
  async function api(method, route, body) {
    if (!session) {
      expired();
      throw new APIError(401, 'unauthorized', 'not signed in');
    }
    const opts = {
      method: method,
      headers: { Authorization: 'Bearer ' + session.token, Accept: 'application/json' },
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let resp;
    try {
      resp = await window.fetch('/v1/applications/' + encodeURIComponent(session.app) + route, opts);
    } catch (e) {
      throw new APIError(0, 'network', 'Hookflow could not be reached (' + e.message + '). Check your connection and try again.');
    }
    const text = await resp.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (e) {
        data = null;
      }
    }
    if (resp.status === 401) {
      expired();
      throw new APIError(401, 'unauthorized', 'This link has expired.');
    }
    if (!resp.ok) {
      const err = data && data.error;
      throw new APIError(resp.status, err && err.code, describe(resp.status, err));
    }
    return data;
  }

  function q(params) {
    const u = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      if (params[k] !== '' && params[k] !== undefined && params[k] !== null) {
        u.set(k, params[k]);
      }
    });
    const s = u.toString();
    return s ? '?' + s : '';
  }

  // ---- DOM helpers -------------------------------------------------------

  // el builds an element; strings among children become text nodes, so
  // nothing here is ever parsed as HTML.
  function el(tag, attrs) {
    const node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        const v = attrs[k];
        if (v === undefined || v === null || v === false) {
          return;
        }
        if (k === 'onclick' || k === 'onsubmit' || k === 'onchange') {
          node.addEventListener(k.slice(2), v);
        } else if (k === 'text') {
          node.textContent = String(v);
        } else {
          node.setAttribute(k, v === true ? '' : String(v));
        }
      });
    }
    for (let i = 2; i < arguments.length; i++) {
      append(node, arguments[i]);
    }
    return node;
  }

  function append(node, child) {
    if (child === undefined || child === null || child === false) {
      return;
    }
    if (Array.isArray(child)) {
      child.forEach(function (c) { append(node, c); });
    } else if (child instanceof Node) {
      node.appendChild(child);
    } else {
      node.appendChild(document.createTextNode(String(child)));
    }
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  function main() {
    return document.getElementById('main');
  }

  function notice(text) {
    const n = document.getElementById('notice');
    n.textContent = text;
    n.hidden = !text;
    if (text) {
      document.getElementById('error').hidden = true;
    }
  }

  function showError(e) {
    if (e instanceof APIError && e.status === 401) {
      return;
    }
    const n = document.getElementById('error');
    n.textContent = (e instanceof APIError && e.status ? 'Error ' + e.status + ': ' : 'Error: ') + e.message;
    n.hidden = false;
    document.getElementById('notice').hidden = true;
  }

  function clearMessages() {
    document.getElementById('notice').hidden = true;
    document.getElementById('error').hidden = true;
  }

  function status(s) {
    return el('span', { class: 'status status-' + s, 'data-status': s, text: s });
  }

  function when(iso) {
    if (!iso) {
      return '';
    }
    const d = new Date(iso);
    return isNaN(d.getTime()) ? String(iso) : d.toLocaleString();
  }

  // action wraps a button's work: errors shown in words, never swallowed.
  function action(fn) {
    return async function (ev) {
      if (ev) {
        ev.preventDefault();
      }
      const btn = ev && ev.currentTarget;
      if (btn && btn.tagName === 'BUTTON') {
        btn.disabled = true;
      }
      try {
        await fn(ev);
      } catch (e) {
        showError(e);
      } finally {
        if (btn && btn.tagName === 'BUTTON') {
          btn.disabled = false;
        }
      }
    };
  }

  // confirmInline asks in the page, not with window.confirm: no native
  // dialog ever opens.
  function confirmInline(cell, question, yes) {
    const box = el('span', { class: 'confirm' },
      question + ' ',
      el('button', { type: 'button', class: 'danger confirm-yes', onclick: action(yes) }, 'Yes'),
      el('button', { type: 'button', class: 'confirm-no', onclick: function () { box.remove(); } }, 'No'));
    cell.appendChild(box);
  }

  // ---- tabs --------------------------------------------------------------

  let current = 'subscriptions';

  function setTab(name) {
    current = name;
    ['subscriptions', 'deliveries'].forEach(function (t) {
      const b = document.getElementById('tab-' + t);
      if (t === name) {
        b.setAttribute('aria-current', 'page');
      } else {
        b.removeAttribute('aria-current');
      }
    });
  }

  // ---- subscriptions -----------------------------------------------------

  let subsCache = [];

  async function loadAllSubscriptions() {
    let all = [];
    let cursor = '';
    for (let i = 0; i < 50; i++) {
      const page = await api('GET', '/subscriptions' + q({ limit: 100, cursor: cursor }));
      all = all.concat(page.data || []);
      cursor = page.next_cursor;
      if (!cursor) {
        break;
      }
    }
    subsCache = all;
    return all;
  }

  async function showSubscriptions() {
    setTab('subscriptions');
    const subs = await loadAllSubscriptions();
    const m = main();
    clear(m);
    m.appendChild(el('div', { class: 'toolbar' },
      el('h2', { text: 'Endpoints' }),
      el('button', { type: 'button', id: 'new-subscription', class: 'primary', onclick: action(function () { showForm(null); }) }, 'Add endpoint')));
    if (!subs.length) {
      m.appendChild(el('p', { class: 'muted', id: 'no-subscriptions' }, 'No endpoints yet. Add one to start receiving webhooks.'));
      return;
    }
    const body = el('tbody');
    subs.forEach(function (s) { body.appendChild(subscriptionRow(s)); });
    m.appendChild(el('table', { id: 'subscriptions' },
      el('thead', null, el('tr', null, el('th', { text: 'Endpoint' }), el('th', { text: 'Event types' }),
        el('th', { text: 'Status' }), el('th', { text: 'Actions' }))),
      body));
  }

  function subscriptionRow(s) {
    const actions = el('td', { class: 'actions' });
    const secretBox = el('div', { class: 'secret-box' });
    // A disabled endpoint (every attempt failed for long, or it answered
    // 410) comes back like a paused one: PATCH status active.
    const paused = s.status === 'paused' || s.status === 'disabled';
    const row = el('tr', { class: 'subscription', 'data-id': s.id },
      el('td', null,
        el('div', { class: 'url', text: s.url }),
        s.description ? el('div', { class: 'muted description', text: s.description }) : null,
        el('div', { class: 'muted', text: s.id }),
        s.disabled_reason ? el('div', { class: 'muted disabled-reason', text: 'Disabled: ' + s.disabled_reason + (s.failing_since ? ' (failing since ' + when(s.failing_since) + ')' : '') }) : null,
        flowControl(s) ? el('div', { class: 'muted flow-control', text: flowControl(s) }) : null,
        secretBox),
      el('td', { class: 'event-types', text: (s.event_types || []).join(', ') }),
      el('td', null, status(s.status)),
      actions);
    append(actions, [
      el('button', { type: 'button', class: 'edit', onclick: action(function () { showForm(s); }) }, 'Edit'),
      el('button', {
        type: 'button', class: paused ? 'resume' : 'pause',
        onclick: action(async function () {
          await api('PATCH', '/subscriptions/' + encodeURIComponent(s.id), { status: paused ? 'active' : 'paused' });
          await showSubscriptions();
          notice(paused ? 'Endpoint resumed: what waited is sent now.' : 'Endpoint paused: deliveries wait until you resume it.');
        }),
      }, paused ? 'Resume' : 'Pause'),
      el('button', {
        type: 'button', class: 'send-test',
        onclick: action(async function () {
          const acc = await api('POST', '/subscriptions/' + encodeURIComponent(s.id) + '/test');
          notice('Test event ' + acc.id + ' sent to ' + s.url + '.');
          const n = document.getElementById('notice');
          n.appendChild(document.createTextNode(' '));
          n.appendChild(el('button', {
            type: 'button', class: 'see-test',
            onclick: action(function () { return showDeliveries({ event_id: acc.id }); }),
          }, 'See its delivery'));
        }),
      }, 'Send test event'),
      el('button', {
        type: 'button', class: 'reveal-secret',
        onclick: action(async function () {
          if (secretBox.firstChild) {
            clear(secretBox);
            return;
          }
          const r = await api('GET', '/subscriptions/' + encodeURIComponent(s.id) + '/secret');
          showSecret(secretBox, r.secret, 'Signing secret');
        }),
      }, 'Reveal secret'),
      el('button', {
        type: 'button', class: 'rotate-secret',
        onclick: function () {
          confirmInline(actions, 'Rotate the secret? The old one keeps signing beside the new one for a while.', async function () {
            const r = await api('POST', '/subscriptions/' + encodeURIComponent(s.id) + '/rotate-secret');
            const box = actions.querySelector('.confirm');
            if (box) {
              box.remove();
            }
            showSecret(secretBox, r.secret, 'New signing secret');
            notice('Secret rotated. Webhooks carry signatures of both secrets until ' +
              (r.previous_secret_expires_at ? when(r.previous_secret_expires_at) : 'the grace period ends') + '.');
          });
        },
      }, 'Rotate secret'),
      el('button', {
        type: 'button', class: 'delete danger',
        onclick: function () {
          confirmInline(actions, 'Delete this endpoint?', async function () {
            await api('DELETE', '/subscriptions/' + encodeURIComponent(s.id));
            await showSubscriptions();
            notice('Endpoint deleted.');
          });
        },
      }, 'Delete'),
    ]);
    return row;
  }

  function flowControl(s) {
    const parts = [];
    if (s.rate_limit) {
      parts.push('at most ' + s.rate_limit + ' requests/s');
    }
    if (s.max_in_flight) {
      parts.push('at most ' + s.max_in_flight + ' at once');
    }
    return parts.join(', ');
  }

  // numberField reads an optional number input: undefined when empty on
  // create, null when emptied on edit (the API then removes the limit).
  function numberField(input, before) {
    const v = input.value.trim();
    if (v === '') {
      return before ? null : undefined;
    }
    return Number(v);
  }

  function showSecret(box, secret, label) {
    clear(box);
    append(box, [el('span', { class: 'muted', text: label + ': ' }), el('code', { class: 'secret', text: secret })]);
  }

  function splitTypes(v) {
    return v.split(/[\s,]+/).map(function (t) { return t.trim(); }).filter(Boolean);
  }

  function showForm(s) {
    clearMessages();
    const m = main();
    clear(m);
    const url = el('input', { type: 'url', id: 'f-url', name: 'url', required: true, placeholder: 'https://example.com/webhooks', value: s ? s.url : '' });
    const types = el('input', { type: 'text', id: 'f-event-types', name: 'event_types', required: true, placeholder: 'order.created, invoice.*', value: s ? (s.event_types || []).join(', ') : '' });
    const desc = el('input', { type: 'text', id: 'f-description', name: 'description', value: s ? s.description || '' : '' });
    const rate = el('input', { type: 'number', id: 'f-rate-limit', name: 'rate_limit', min: '0', step: 'any', placeholder: 'no limit', value: s && s.rate_limit ? s.rate_limit : '' });
    const inflight = el('input', { type: 'number', id: 'f-max-in-flight', name: 'max_in_flight', min: '1', step: '1', placeholder: 'no cap', value: s && s.max_in_flight ? s.max_in_flight : '' });
    const form = el('form', { class: 'panel', id: 'subscription-form', novalidate: true },
      el('h2', { text: s ? 'Edit endpoint' : 'Add endpoint' }),
      el('label', { for: 'f-url' }, 'URL'), url,
      el('label', { for: 'f-event-types' }, 'Event types'), types,
      el('p', { class: 'hint', text: 'Separated by commas or spaces. A pattern like order.* receives every type under order.' }),
      el('label', { for: 'f-description' }, 'Description'), desc,
      el('label', { for: 'f-rate-limit' }, 'Rate limit (requests per second)'), rate,
      el('label', { for: 'f-max-in-flight' }, 'Concurrency cap (requests at once)'), inflight,
      el('p', { class: 'hint', text: 'Requests beyond either limit wait; none is dropped. Leave empty for no limit.' }),
      el('div', { class: 'toolbar' },
        el('button', { type: 'submit', class: 'primary', id: 'f-save' }, s ? 'Save' : 'Create'),
        el('button', { type: 'button', id: 'f-cancel', onclick: action(showSubscriptions) }, 'Cancel')));
    form.addEventListener('submit', action(async function () {
      const body = { url: url.value.trim(), event_types: splitTypes(types.value), description: desc.value };
      const r = numberField(rate, s && s.rate_limit);
      const m = numberField(inflight, s && s.max_in_flight);
      if (r !== undefined) {
        body.rate_limit = r;
      }
      if (m !== undefined) {
        body.max_in_flight = m;
      }
      if (s) {
        await api('PATCH', '/subscriptions/' + encodeURIComponent(s.id), body);
        await showSubscriptions();
        notice('Endpoint saved.');
        return;
      }
      const created = await api('POST', '/subscriptions', body);
      await showSubscriptions();
      notice('Endpoint created. Its signing secret is shown below; you can reveal it again at any time.');
      const row = main().querySelector('tr[data-id="' + CSS.escape(created.id) + '"] .secret-box');
      if (row) {
        showSecret(row, created.secret, 'Signing secret');
      }
    }));
    m.appendChild(form);
    url.focus();
  }

  // ---- deliveries --------------------------------------------------------

  const STATUSES = ['', 'pending', 'scheduled', 'delivering', 'retrying', 'held', 'succeeded', 'failed', 'cancelled'];
  let filters = { status: '', subscription_id: '', event_id: '' };
  let cursors = ['']; // the cursors of the pages seen, for "Newer"

  function subURL(id) {
    const s = subsCache.find(function (x) { return x.id === id; });
    return s ? s.url : id;
  }

  async function showDeliveries(newFilters) {
    setTab('deliveries');
    if (newFilters) {
      filters = Object.assign({ status: '', subscription_id: '', event_id: '' }, newFilters);
      cursors = [''];
    }
    if (!subsCache.length) {
      await loadAllSubscriptions();
    }
    const m = main();
    clear(m);
    const st = el('select', { id: 'filter-status' });
    STATUSES.forEach(function (s) {
      st.appendChild(el('option', { value: s, selected: s === filters.status }, s || 'any'));
    });
    const sub = el('select', { id: 'filter-subscription' });
    sub.appendChild(el('option', { value: '' }, 'any'));
    subsCache.forEach(function (s) {
      sub.appendChild(el('option', { value: s.id, selected: s.id === filters.subscription_id }, s.url));
    });
    const evid = el('input', { type: 'text', id: 'filter-event', placeholder: 'evt_...', value: filters.event_id });
    const form = el('form', { class: 'toolbar', id: 'delivery-filters' },
      el('div', null, el('label', { for: 'filter-status' }, 'Status'), st),
      el('div', null, el('label', { for: 'filter-subscription' }, 'Endpoint'), sub),
      el('div', null, el('label', { for: 'filter-event' }, 'Event id'), evid),
      el('button', { type: 'submit', class: 'primary', id: 'apply-filters' }, 'Apply'),
      el('button', { type: 'button', id: 'refresh', onclick: action(function () { return showDeliveries(); }) }, 'Refresh'));
    form.addEventListener('submit', action(function () {
      return showDeliveries({ status: st.value, subscription_id: sub.value, event_id: evid.value.trim() });
    }));
    m.appendChild(el('h2', { text: 'Deliveries' }));
    m.appendChild(form);
    const list = el('div', { id: 'delivery-list' });
    const detail = el('div', { id: 'delivery-detail' });
    m.appendChild(list);
    m.appendChild(detail);
    await renderDeliveryList(list, detail);
  }

  async function renderDeliveryList(list, detail) {
    const cursor = cursors[cursors.length - 1];
    let page;
    try {
      page = await api('GET', '/deliveries' + q({
        status: filters.status, subscription_id: filters.subscription_id, event_id: filters.event_id,
        limit: PAGE, cursor: cursor,
      }));
    } catch (e) {
      // A Hookflow without the delivery log answers "no route": look the
      // event up instead, which every version can.
      if (e.status === 404 && e.code === 'not_found' && /^no route/.test(e.message)) {
        page = await deliveriesOfEvent();
      } else {
        throw e;
      }
    }
    const rows = page.data || [];
    if (!rows.length) {
      list.appendChild(el('p', { class: 'muted', id: 'no-deliveries' }, page.note || 'No deliveries match.'));
      return;
    }
    const body = el('tbody');
    rows.forEach(function (d) {
      body.appendChild(el('tr', { class: 'delivery', 'data-id': d.id, 'data-status': d.status, 'data-created': d.created_at },
        el('td', { text: when(d.created_at) }),
        el('td', { class: 'url', text: d.event_id }),
        el('td', { class: 'url', text: subURL(d.subscription_id) }),
        el('td', null, status(d.status)),
        el('td', { text: String(d.attempts) }),
        el('td', null, el('button', { type: 'button', class: 'open-delivery', onclick: action(function () { return showDelivery(detail, d.id); }) }, 'Details'))));
    });
    list.appendChild(el('table', { id: 'deliveries' },
      el('thead', null, el('tr', null, ['Created', 'Event', 'Endpoint', 'Status', 'Attempts', ''].map(function (h) { return el('th', { text: h }); }))),
      body));
    const pager = el('div', { class: 'toolbar' });
    if (cursors.length > 1) {
      pager.appendChild(el('button', { type: 'button', id: 'newer', onclick: action(function () { cursors.pop(); return showDeliveries(); }) }, '← Newer'));
    }
    if (page.has_more && page.next_cursor) {
      pager.appendChild(el('button', { type: 'button', id: 'older', onclick: action(function () { cursors.push(page.next_cursor); return showDeliveries(); }) }, 'Older →'));
    }
    list.appendChild(pager);
  }

  async function deliveriesOfEvent() {
    if (!filters.event_id) {
      return { data: [], note: 'This Hookflow keeps no delivery list yet: enter an event id to see its deliveries.' };
    }
    const ev = await api('GET', '/events/' + encodeURIComponent(filters.event_id));
    const data = (ev.deliveries || []).filter(function (d) {
      return (!filters.status || d.status === filters.status) && (!filters.subscription_id || d.subscription_id === filters.subscription_id);
    }).map(function (d) {
      return Object.assign({ event_id: ev.id, created_at: ev.created_at }, d);
    });
    return { data: data, has_more: false };
  }

  async function showDelivery(detail, id) {
    const d = await api('GET', '/deliveries/' + encodeURIComponent(id));
    clear(detail);
    const path = '/deliveries/' + encodeURIComponent(d.id);
    const attempts = el('tbody');
    (d.attempts || []).forEach(function (a) {
      attempts.appendChild(el('tr', { class: 'attempt' },
        el('td', { text: String(a.attempt) }),
        el('td', { text: when(a.started_at) }),
        el('td', { class: 'status-code', text: a.status_code ? String(a.status_code) : '—' }),
        el('td', { text: a.duration_ms !== undefined && a.duration_ms !== null ? a.duration_ms + ' ms' : '' }),
        el('td', null,
          a.error ? el('div', { class: 'attempt-error', text: a.error }) : null,
          el('pre', { class: 'response-excerpt', text: a.response_excerpt || '' }))));
    });
    const after = async function (message) {
      await showDelivery(detail, d.id);
      notice(message);
    };
    detail.appendChild(el('div', { class: 'panel', id: 'delivery', 'data-id': d.id },
      el('h2', null, 'Delivery ', el('span', { class: 'url', text: d.id })),
      el('dl', null,
        el('dt', { text: 'Status' }), el('dd', { id: 'delivery-status' }, status(d.status)),
        el('dt', { text: 'Event' }), el('dd', { class: 'url', text: d.event_id }),
        el('dt', { text: 'Endpoint' }), el('dd', { class: 'url', text: d.url }),
        d.next_attempt_at ? [el('dt', { text: 'Next attempt' }), el('dd', { text: when(d.next_attempt_at) })] : null),
      el('div', { class: 'toolbar' },
        el('button', { type: 'button', id: 'retry', onclick: action(async function () { await api('POST', path + '/retry'); await after('Retry requested.'); }) }, 'Retry'),
        el('button', { type: 'button', id: 'cancel', class: 'danger', onclick: action(async function () { await api('POST', path + '/cancel'); await after('Cancel requested.'); }) }, 'Cancel'),
        el('button', {
          type: 'button', id: 'resend',
          onclick: action(async function () {
            const r = await api('POST', path + '/resend');
            await showDeliveries();
            await showDelivery(document.getElementById('delivery-detail'), r.id);
            notice('Resent as a new delivery, ' + r.id + '.');
          }),
        }, 'Resend'),
        el('button', { type: 'button', id: 'reload-delivery', onclick: action(function () { return showDelivery(detail, d.id); }) }, 'Reload')),
      el('h2', { text: 'Attempts' }),
      (d.attempts || []).length
        ? el('table', { id: 'attempts' },
          el('thead', null, el('tr', null, ['#', 'Time', 'Status code', 'Duration', 'Response'].map(function (h) { return el('th', { text: h }); }))),
          attempts)
        : el('p', { class: 'muted', id: 'no-attempts', text: 'No attempt yet.' })));
    detail.scrollIntoView();
  }

  // ---- start -------------------------------------------------------------

  async function start() {
    readSession();
    if (!session) {
      signOut('Open the portal with your link',
        'This page needs the portal link you were given. Ask the service that sends you webhooks for a new link.');
      return;
    }
    document.getElementById('tab-subscriptions').addEventListener('click', action(function () { clearMessages(); return showSubscriptions(); }));
    document.getElementById('tab-deliveries').addEventListener('click', action(function () { clearMessages(); return showDeliveries(); }));
    try {
      const app = await api('GET', '');
      document.getElementById('app-name').textContent = app.name || app.id;
      document.getElementById('tabs').hidden = false;
      await showSubscriptions();
    } catch (e) {
      showError(e);
      const l = document.getElementById('loading');
      if (l) {
        l.remove();
      }
    }
  }

  // A new link opened in a tab that shows the portal already changes only
  // the fragment, which loads nothing: start again with its token.
  window.addEventListener('hashchange', function () {
    if (new URLSearchParams(window.location.hash.slice(1)).get('token')) {
      window.location.reload();
    }
  });
  document.addEventListener('DOMContentLoaded', start);
}());
