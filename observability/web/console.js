/*
 * vwire web console: draws the virtual wire from vwired's /api/ and keeps
 * its throughput live.  Plain JavaScript, no framework, no build step.
 *
 *   /api/links /api/zones /api/vnms /api/flows /api/info   the topology,
 *       read again every TOPO_MS; the drawing is made again when it changed
 *   /api/stats   every POLL_MS: rates are the counters' differences over
 *       the daemon's own time between two readings
 *   /api/history?name=L&interval=1&start=-15m   the chart of a link's
 *       bandwidth in its panel, when accounting is on
 *
 * The layout is layered: switches (etherstubs, phys links, aggregations,
 * tunnels) in the middle row, zones with their VNICs in bands above and
 * below, each zone placed by the mean position of the switches its VNICs
 * are on (so a router between two etherstubs sits between them; in every
 * row a switch's zones are near its share of the width), each switch under
 * the mean position of its VNICs.
 *
 * For tests and scripts the page keeps its state in window.vwConsole:
 *   links: [{name, class, over, zone, vid, maxbw, drawn, bps_in, bps_out,
 *            pps_in, pps_out, drops_per_s, t0, t1}]   (t0, t1: the daemon's
 *            times, ms, of the two readings the rates come from)
 *   updated: Date.now() of the last update, updates: rate updates so far,
 *   stats_time: the daemon's time of the last reading, error: the last
 *   error or null.  The drawing's elements carry data-link, data-bps-in,
 *   data-bps-out and data-drops.
 */
'use strict';
(function () {
	const SVGNS = 'http://www.w3.org/2000/svg';
	const POLL_MS = 1000, TOPO_MS = 5000;
	const PILL_W = 168, PILL_H = 64, PILL_GAP = 8, ZONE_PAD = 8, ZONE_GAP = 14;
	const SW_H = 58, LAYER_GAP = 96, MARGIN = 20;
	const PALETTE = ['#1570ef', '#12b76a', '#f79009', '#7a5af8', '#ee46bc', '#0ba5ec', '#a15c07', '#66c61c',
		'#d444f1', '#e04f16'];
	const UNTAGGED = '#667085';

	const state = { links: [], updated: 0, updates: 0, stats_time: 0, error: null };
	window.vwConsole = state;

	let topo = null, topoKey = '', prev = null, last = null, rates = {}, selected = null;
	let info = { write: false, accounting: false }, vlanColor = new Map(), chartTimer = null;

	const $ = (id) => document.getElementById(id);

	function el(name, attrs, parent) {
		const e = document.createElementNS(SVGNS, name);
		for (const k in attrs)
			e.setAttribute(k, attrs[k]);
		if (parent)
			parent.appendChild(e);
		return e;
	}

	function text(parent, x, y, s, cls, anchor) {
		const t = el('text', { x: x, y: y, class: cls || '', 'text-anchor': anchor || 'middle' }, parent);
		t.textContent = s;
		return t;
	}

	function h(tag, attrs, kids) {
		const e = document.createElement(tag);
		for (const k in attrs || {})
			e.setAttribute(k, attrs[k]);
		for (const c of kids || [])
			e.append(c);
		return e;
	}

	async function getJSON(path) {
		const r = await fetch(path, { cache: 'no-store' });
		if (!r.ok)
			throw new Error(path + ': ' + r.status + ' ' + (await r.text()).trim());
		return r.json();
	}

	function fmtBps(v) {
		if (!(v >= 0))
			return '–';
		const u = ['b/s', 'kb/s', 'Mb/s', 'Gb/s', 'Tb/s'];
		let i = 0;
		while (v >= 1000 && i < u.length - 1)
			v /= 1000, i++;
		return (i ? v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0) : Math.round(v)) + ' ' + u[i];
	}

	function fmtRate(v) {
		return v >= 100 ? Math.round(v) + '' : v.toFixed(1);
	}

	const hasValue = (v) => v !== undefined && v !== '' && v !== '--';
	const maxbwOf = (l) => (l.props && hasValue(l.props.maxbw) ? l.props.maxbw : '');

	/* ---- layout ---- */

	function layout(t) {
		/* rows no wider than the drawing's box shows at about full size */
		const MAX_ROW_W = Math.max(2 * (PILL_W + 2 * ZONE_PAD + ZONE_GAP), ($('wire').clientWidth - 20) / 0.95);
		const order = { etherstub: 0, phys: 1, aggr: 2, tunnel: 3 };
		const switches = t.links.filter((l) => l.class !== 'vnic')
			.sort((a, b) => (order[a.class] ?? 9) - (order[b.class] ?? 9) || a.link.localeCompare(b.link));
		const sIndex = new Map(switches.map((s, i) => [s.link, i]));
		const zoneMap = new Map();
		for (const z of t.zones)
			zoneMap.set(z.zone, { name: z.zone, vnics: [], vnm: null, host: false });
		for (const v of t.links.filter((l) => l.class === 'vnic')) {
			const zn = v.zone || '';
			if (!zoneMap.has(zn))
				zoneMap.set(zn, { name: zn, vnics: [], vnm: null, host: zn === '' });
			zoneMap.get(zn).vnics.push(v);
		}
		for (const m of t.vnms)
			if (zoneMap.has(m.zone))
				zoneMap.get(m.zone).vnm = m;
		const zones = [...zoneMap.values()];
		for (const z of zones) {
			z.vnics.sort((a, b) => (sIndex.get(a.over) ?? 1e9) - (sIndex.get(b.over) ?? 1e9) ||
				a.link.localeCompare(b.link));
			const idx = z.vnics.map((v) => sIndex.get(v.over)).filter((i) => i !== undefined);
			z.bary = idx.length ? idx.reduce((a, b) => a + b, 0) / idx.length : 1e9;
			z.w = Math.max(150, z.vnics.length * (PILL_W + PILL_GAP) - PILL_GAP + 2 * ZONE_PAD);
			z.head = z.vnm ? 36 : 22;
			z.h = z.head + PILL_H + ZONE_PAD + (z.vnics.length ? 0 : -PILL_H + 14);
		}
		zones.sort((a, b) => a.bary - b.bary || (a.host - b.host) || a.name.localeCompare(b.name));

		/* two bands (above and below the switches) once there are more than
		 * six zones or one row would not do, each cut in rows of at most
		 * MAX_ROW_W */
		const bands = [[], []];
		const two = zones.length > 6 || zones.reduce((a, z) => a + z.w + ZONE_GAP, 0) > MAX_ROW_W;
		zones.forEach((z, i) => bands[two ? i % 2 : 0].push(z));
		const rows = bands.map((band) => {
			const out = [];
			let row = [], w = 0;
			for (const z of band) {
				if (row.length && w + z.w > MAX_ROW_W) {
					out.push(row);
					row = [], w = 0;
				}
				row.push(z);
				w += z.w + ZONE_GAP;
			}
			if (row.length)
				out.push(row);
			return out; /* out[0] is the row next to the switches */
		});
		const rowW = (r) => r.reduce((a, z) => a + z.w, 0) + ZONE_GAP * (r.length - 1);
		const swW = (s) => Math.max(170, 16 + 8 * (s.link.length + s.class.length + 3));
		const width = Math.max(600, ...rows.flat().map(rowW),
			switches.reduce((a, s) => a + swW(s) + 20, 0)) + 2 * MARGIN;
		const rowH = (r) => Math.max(...r.map((z) => z.h));

		/* each zone as near as it can be to the share of the width its
		 * switches have (switch i of n: around (i + 0.5) / n of it), so that
		 * a switch's zones stand above and below it, in every row */
		const nsw = Math.max(1, switches.length);
		const target = (z) => MARGIN + (Math.min(z.bary, nsw - 0.5) + 0.5) / nsw * (width - 2 * MARGIN) - z.w / 2;

		/* y: the top band's rows from the outermost down, the switches, the
		 * bottom band's rows outwards */
		let y = MARGIN;
		for (let i = rows[0].length - 1; i >= 0; i--) {
			place(rows[0][i], y, true);
			y += rowH(rows[0][i]) + (i ? 30 : LAYER_GAP);
		}
		const swY = y;
		y += SW_H + LAYER_GAP;
		for (let i = 0; i < rows[1].length; i++) {
			place(rows[1][i], y, false);
			y += rowH(rows[1][i]) + 30;
		}
		const height = y + MARGIN - (rows[1].length ? 30 : LAYER_GAP) + (rows[1].length ? 0 : 0);

		function place(row, y0, top) {
			const xs = [];
			let end = MARGIN - ZONE_GAP;
			for (const z of row) { /* left to right, no overlap */
				xs.push(Math.max(target(z), end + ZONE_GAP));
				end = xs[xs.length - 1] + z.w;
			}
			let lim = width - MARGIN; /* pushed past the right edge: back */
			for (let i = row.length - 1; i >= 0; i--) {
				xs[i] = Math.min(xs[i], lim - row[i].w);
				lim = xs[i] - ZONE_GAP;
			}
			row.forEach((z, i) => {
				const x = xs[i];
				z.x = x, z.y = y0, z.top = top;
				/* pills at the zone's edge that faces the switches */
				z.vnics.forEach((v, i) => {
					v._x = x + ZONE_PAD + i * (PILL_W + PILL_GAP);
					v._y = top ? y0 + z.head : y0 + z.head;
					v._top = top;
				});
			});
		}

		/* switches under the mean x of their VNICs, then pushed apart */
		const vnicsOf = new Map(switches.map((s) => [s.link, []]));
		for (const z of zones)
			for (const v of z.vnics)
				if (vnicsOf.has(v.over))
					vnicsOf.get(v.over).push(v);
		for (const s of switches) {
			const vs = vnicsOf.get(s.link);
			s._w = swW(s);
			s._cx = vs.length ? vs.reduce((a, v) => a + v._x + PILL_W / 2, 0) / vs.length : 1e9;
			s._y = swY;
		}
		const sorted = [...switches].sort((a, b) => a._cx - b._cx);
		let free = MARGIN;
		for (const s of sorted) {
			if (s._cx === 1e9)
				s._cx = free + s._w / 2;
			s._x = Math.max(free, s._cx - s._w / 2);
			free = s._x + s._w + 20;
		}
		const over = free - 20 + MARGIN - width;
		if (over > 0) /* pushed past the right edge: shift back, keeping gaps */
			for (let i = sorted.length - 1, lim = width - MARGIN; i >= 0; i--) {
				const s = sorted[i];
				s._x = Math.min(s._x, lim - s._w);
				lim = s._x - 20;
			}
		return { switches, zones, vnicsOf, width: Math.max(width, free + MARGIN), height };
	}

	/* ---- drawing ---- */

	function vlanColors(links) {
		const vids = [...new Set(links.filter((l) => l.class === 'vnic').map((l) => +l.vid || 0))].sort((a, b) => a - b);
		const m = new Map();
		let i = 0;
		for (const v of vids)
			m.set(v, v ? PALETTE[i++ % PALETTE.length] : UNTAGGED);
		return m;
	}

	function draw() {
		const svg = $('drawing');
		const L = layout(topo);
		vlanColor = vlanColors(topo.links);
		svg.textContent = '';
		svg.setAttribute('viewBox', '0 0 ' + L.width + ' ' + L.height);
		svg.style.maxWidth = L.width + 'px'; /* a small network is not blown up */
		svg.setAttribute('data-zones', L.zones.length);
		const gEdges = el('g', { class: 'edges' }, svg);
		const gSw = el('g', { class: 'switches' }, svg);
		const gZones = el('g', { class: 'zones' }, svg);

		for (const s of L.switches) {
			const g = el('g', { class: 'switch ' + s.class, 'data-link': s.link, 'data-class': s.class }, gSw);
			el('rect', { x: s._x, y: s._y, width: s._w, height: SW_H, rx: s.class === 'etherstub' ? 8 : 3 }, g);
			const cx = s._x + s._w / 2;
			text(g, cx, s._y + 17, s.link + ' (' + s.class + ')', 'name');
			text(g, cx, s._y + 32, switchDetail(s), 'detail');
			text(g, cx, s._y + 47, '', 'rate');
			el('title', {}, g).textContent = s.link + ': ' + s.class + (maxbwOf(s) ? ', maxbw ' + maxbwOf(s) : '');
		}
		for (const z of L.zones) {
			const g = el('g', { class: 'zone' + (z.vnm ? ' vnm' : '') + (z.host ? ' host' : ''), 'data-zone': z.name },
				gZones);
			el('rect', { class: 'box', x: z.x, y: z.y, width: z.w, height: z.h, rx: 6 }, g);
			text(g, z.x + 8, z.y + 15, z.host ? '(host: no zone)' : 'zone ' + z.name, 'title', 'start');
			if (z.vnm)
				text(g, z.x + 8, z.y + 30, 'VNM ' + z.vnm.vnm + ': ' + z.vnm.type, 'kind', 'start');
			for (const v of z.vnics) {
				const vg = el('g', { class: 'vnic', 'data-link': v.link, 'data-class': 'vnic', 'data-vid': +v.vid || 0 }, g);
				const c = vlanColor.get(+v.vid || 0);
				el('rect', { x: v._x, y: v._y, width: PILL_W, height: PILL_H - 6, rx: 5, stroke: c }, vg);
				const cx = v._x + PILL_W / 2;
				text(vg, cx, v._y + 14, v.link, 'name');
				const mb = maxbwOf(v);
				text(vg, cx, v._y + 27, (+v.vid ? 'VLAN ' + v.vid : 'untagged') + (mb ? ' · maxbw ' + mb : ''), 'detail');
				text(vg, cx, v._y + 40, '', 'rate');
				text(vg, cx, v._y + 52, '', 'drops');
				el('title', {}, vg).textContent = v.link + ' over ' + v.over + ', MAC ' + (v.macaddress || '?') +
					(mb ? ', maxbw ' + mb : '') + '\n(in: what the VNIC received, RBYTES; out: what it sent, OBYTES)';
			}
		}
		/* edges: VNIC to its switch, in its VLAN's colour, attach points
		 * spread along the switch in the VNICs' order */
		for (const s of L.switches) {
			const vs = L.vnicsOf.get(s.link).slice().sort((a, b) => a._x - b._x);
			for (const side of [true, false]) {
				const mine = vs.filter((v) => v._top === side);
				mine.forEach((v, i) => {
					const ax = s._x + s._w * (i + 1) / (mine.length + 1);
					const ay = side ? s._y : s._y + SW_H;
					const vx = v._x + PILL_W / 2, vy = side ? v._y + PILL_H - 6 : v._y;
					const my = (ay + vy) / 2;
					el('path', {
						class: 'edge' + (v.state && v.state !== 'up' ? ' down' : ''), 'data-link': v.link,
						d: `M${vx},${vy} C${vx},${my} ${ax},${my} ${ax},${ay}`,
						stroke: vlanColor.get(+v.vid || 0)
					}, gEdges);
				});
			}
		}
		legend();
		markSelected();
		updateLive();
	}

	function switchDetail(s) {
		const parts = [];
		if (s.class === 'aggr' && hasValue(s.ports))
			parts.push('ports ' + s.ports);
		if (s.class === 'tunnel')
			parts.push('vni ' + (s.vni || '?') + (hasValue(s.remotes) ? ' → ' + s.remotes : ''));
		if (s.class === 'phys' && hasValue(s.device))
			parts.push(s.device);
		if (s.class === 'etherstub')
			parts.push((s.vnics || 0) + ' VNICs');
		if (maxbwOf(s))
			parts.push('maxbw ' + maxbwOf(s));
		return parts.join(' · ');
	}

	function legend() {
		const lg = $('legend');
		lg.textContent = '';
		lg.append(h('span', {}, ['VLANs:']));
		for (const [vid, c] of vlanColor) {
			const sw = h('span', { class: 'sw' });
			sw.style.background = c;
			lg.append(h('span', { 'data-vid': vid }, [sw, vid ? 'VLAN ' + vid : 'untagged']));
		}
		const d = h('span', { class: 'sw' });
		d.style.background = 'var(--drop)';
		lg.append(h('span', {}, [d, 'dropping now']));
		lg.append(h('span', {}, ['in = received (RBYTES), out = sent (OBYTES); rates over the last ' +
			POLL_MS / 1000 + ' s']));
	}

	/* the rates in the drawing and in window.vwConsole */
	function updateLive() {
		if (!topo)
			return;
		const svg = $('drawing');
		for (const g of svg.querySelectorAll('g[data-link]')) {
			const r = rates[g.getAttribute('data-link')];
			const rate = g.querySelector('text.rate'), drops = g.querySelector('text.drops');
			if (!r) {
				if (rate)
					rate.textContent = 'in – out –';
				continue;
			}
			g.setAttribute('data-bps-in', Math.round(r.bps_in));
			g.setAttribute('data-bps-out', Math.round(r.bps_out));
			g.setAttribute('data-drops', fmtRate(r.drops_per_s));
			if (rate)
				rate.textContent = 'in ' + fmtBps(r.bps_in) + ' · out ' + fmtBps(r.bps_out);
			const dropping = r.drops_per_s > 0;
			g.classList.toggle('dropping', dropping);
			if (drops)
				drops.textContent = dropping ? 'drops ' + fmtRate(r.drops_per_s) + '/s' : '';
			else if (dropping && rate)
				rate.textContent += ' · drops ' + fmtRate(r.drops_per_s) + '/s';
		}
		for (const p of svg.querySelectorAll('path.edge')) {
			const r = rates[p.getAttribute('data-link')];
			const bps = r ? r.bps_in + r.bps_out : 0;
			p.setAttribute('stroke-width', (2 + Math.min(6, Math.log10(1 + bps / 1e5) * 1.5)).toFixed(1));
			p.classList.toggle('dropping', !!(r && r.drops_per_s > 0));
		}
		state.links = topo.links.map((l) => {
			const r = rates[l.link] || {};
			return {
				name: l.link, class: l.class, over: l.over, zone: l.zone, vid: +l.vid || 0, maxbw: maxbwOf(l),
				drawn: !!svg.querySelector('g[data-link="' + CSS.escape(l.link) + '"]'),
				bps_in: r.bps_in ?? null, bps_out: r.bps_out ?? null, pps_in: r.pps_in ?? null,
				pps_out: r.pps_out ?? null, drops_per_s: r.drops_per_s ?? null, t0: r.t0 ?? null, t1: r.t1 ?? null
			};
		});
		state.updated = Date.now();
	}

	function summary() {
		const n = (c) => topo.links.filter((l) => l.class === c).length;
		$('summary').textContent = topo.zones.length + ' zones · ' + n('vnic') + ' VNICs · ' + n('etherstub') +
			' etherstubs · ' + n('phys') + ' phys · ' + n('aggr') + ' aggregations · ' + n('tunnel') + ' tunnels · ' +
			topo.vnms.length + ' VNMs · accounting ' + (info.accounting ? 'on' : 'off') +
			(info.write ? ' · writes on' : ' · read-only');
	}

	function setStatus(ok, msg) {
		const s = $('status');
		s.textContent = msg;
		s.classList.toggle('bad', !ok);
	}

	/* ---- polling ---- */

	async function loadTopology() {
		const [links, zones, vnms, flows, inf] = await Promise.all(
			['/api/links', '/api/zones', '/api/vnms', '/api/flows', '/api/info'].map(getJSON));
		info = inf;
		topo = { links, zones, vnms, flows };
		const key = JSON.stringify([links.map((l) => [l.link, l.class, l.over, l.zone, l.vid, l.state, maxbwOf(l),
			l.ports, l.vni, l.remotes, l.vnics]), zones, vnms.map((v) => [v.vnm, v.type, v.zone])]);
		if (key !== topoKey) {
			topoKey = key;
			draw();
		}
		summary();
		if (selected)
			panelRefresh(false);
	}

	async function topoLoop() {
		try {
			await loadTopology();
		} catch (e) {
			state.error = String(e);
			setStatus(false, String(e));
		}
		setTimeout(topoLoop, TOPO_MS);
	}

	function applyStats(s) {
		const cur = new Map(s.links.map((r) => [r.link, r]));
		if (prev && s.time > prev.time) {
			const dt = (s.time - prev.time) / 1000;
			const d = (a, b) => (a >= b ? a - b : 0); /* a counter reset (a new link) counts 0 */
			for (const [name, r] of cur) {
				const p = prev.map.get(name);
				if (!p)
					continue;
				rates[name] = {
					bps_in: d(r.rbytes, p.rbytes) * 8 / dt, bps_out: d(r.obytes, p.obytes) * 8 / dt,
					pps_in: d(r.ipkts, p.ipkts) / dt, pps_out: d(r.opkts, p.opkts) / dt,
					drops_per_s: d(r.idrops + r.odrops, p.idrops + p.odrops) / dt, t0: prev.time, t1: s.time
				};
			}
			state.updates++;
		}
		prev = { time: s.time, map: cur };
		last = s;
		state.stats_time = s.time;
		state.error = null;
		updateLive();
		if (selected)
			panelCounters();
		setStatus(true, 'live · ' + new Date(s.time).toLocaleTimeString());
	}

	async function statsLoop() {
		const t = Date.now();
		try {
			applyStats(await getJSON('/api/stats'));
		} catch (e) {
			state.error = String(e);
			setStatus(false, String(e));
		}
		setTimeout(statsLoop, Math.max(100, POLL_MS - (Date.now() - t)));
	}

	/* ---- the panel of a link ---- */

	function kvTable(obj, skip) {
		const t = h('table', { class: 'kv' });
		for (const k in obj) {
			if ((skip && skip.includes(k)) || k[0] === '_')
				continue;
			const v = obj[k];
			const td = h('td', typeof v === 'number' ? { class: 'num' } : {}, [v === '' ? '--' : String(v)]);
			if (/drop/.test(k) && v > 0)
				td.classList.add('drop');
			t.append(h('tr', {}, [h('td', {}, [k]), td]));
		}
		return t;
	}

	function markSelected() {
		for (const g of $('drawing').querySelectorAll('g[data-link]'))
			g.classList.toggle('selected', g.getAttribute('data-link') === selected);
	}

	function select(name) {
		selected = name;
		const was = $('panel').hidden;
		$('panel').hidden = false;
		if (was)
			draw(); /* narrower now */
		markSelected();
		panelRefresh(true);
	}

	function panelRefresh(full) {
		const l = topo.links.find((x) => x.link === selected);
		const body = $('p-body');
		if (!l) {
			$('p-title').textContent = selected + ' (gone)';
			body.textContent = '';
			return;
		}
		if (!full && body.firstChild)
			return;
		$('p-title').textContent = l.link + ' · ' + l.class;
		body.textContent = '';
		const r = rates[l.link];
		body.append(h('h3', {}, ['Now']), h('div', { id: 'p-now' }, [r ? 'in ' + fmtBps(r.bps_in) + ' · out ' +
			fmtBps(r.bps_out) : '…']));
		body.append(h('h3', {}, ['Link']), kvTable(l, ['props']));
		body.append(h('h3', {}, ['Properties']), kvTable(l.props || {}));
		const flows = topo.flows.filter((f) => f.link === l.link);
		body.append(h('h3', {}, ['Flows (' + flows.length + ')']));
		for (const f of flows) {
			const props = Object.entries(f.props || {}).filter(([, v]) => hasValue(v)).map(([k, v]) => k + '=' + v);
			body.append(h('div', {}, [h('b', {}, [f.flow]), ' ' + f.attrs + (props.length ? ' · ' + props.join(',') : '')]),
				kvTable(f, ['flow', 'link', 'attrs', 'props', 'ipaddr', 'proto', 'lport', 'rport', 'dsfield']));
		}
		if (!flows.length)
			body.append(h('div', { class: 'note' }, ['none (vwadm add-flow -l ' + l.link + ' ...)']));
		body.append(h('h3', {}, ['Bandwidth (accounting history, 15 min)']), h('div', { id: 'p-chart' }, ['…']));
		body.append(h('h3', {}, ['Counters']), h('div', { id: 'p-counters' }));
		if (info.write)
			body.append(commandForm(l));
		panelCounters();
		chart(l.link);
	}

	function panelCounters() {
		const box = $('p-counters'), now = $('p-now');
		if (!box || !last)
			return;
		const rec = last.links.find((x) => x.link === selected);
		box.textContent = '';
		box.append(rec ? kvTable(rec, ['link', 'class', 'over', 'zone']) : h('div', { class: 'note' }, ['no counters']));
		const r = rates[selected];
		if (now && r)
			now.textContent = 'in ' + fmtBps(r.bps_in) + ' (' + fmtRate(r.pps_in) + ' pkt/s) · out ' + fmtBps(r.bps_out) +
				' (' + fmtRate(r.pps_out) + ' pkt/s)' + (r.drops_per_s > 0 ? ' · drops ' + fmtRate(r.drops_per_s) + '/s' : '');
	}

	async function chart(name) {
		clearTimeout(chartTimer);
		const box = $('p-chart');
		if (!box || name !== selected)
			return;
		if (!info.accounting) {
			box.textContent = 'accounting is off (vwadm start-accounting -i SECONDS)';
			box.className = 'note';
			return;
		}
		let rows;
		try {
			rows = await getJSON('/api/history?interval=1&start=-15m&name=' + encodeURIComponent(name));
		} catch (e) {
			box.textContent = String(e).replace(/^Error: /, '');
			box.className = 'note';
			chartTimer = setTimeout(() => chart(name), 10000);
			return;
		}
		if (name !== selected || !$('p-chart'))
			return;
		box.textContent = '';
		box.className = '';
		box.append(chartSvg(rows));
		chartTimer = setTimeout(() => chart(name), 10000);
	}

	/* bandwidth over time: steps over the intervals, zero between them */
	function chartSvg(rows) {
		const W = 390, H = 170, ML = 58, MR = 8, MT = 10, MB = 22;
		const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', width: W, height: H });
		if (!rows.length) {
			text(svg, W / 2, H / 2, 'no samples yet', '', 'middle');
			return svg;
		}
		const x0 = Math.min(...rows.map((r) => r.start)), x1 = Math.max(...rows.map((r) => r.end), x0 + 1);
		const ymax = Math.max(...rows.map((r) => r.bandwidth), 1);
		const p10 = Math.pow(10, Math.floor(Math.log10(ymax)));
		const top = [1, 2, 5, 10].map((m) => m * p10).find((v) => v >= ymax);
		const X = (t) => ML + (t - x0) / (x1 - x0) * (W - ML - MR), Y = (v) => H - MB - v / top * (H - MT - MB);
		for (let i = 0; i <= 4; i++) {
			el('line', { class: 'grid', x1: ML, x2: W - MR, y1: Y(top * i / 4), y2: Y(top * i / 4) }, svg);
			text(svg, ML - 4, Y(top * i / 4) + 3, fmtBps(top * i / 4), '', 'end');
		}
		const tm = (s) => new Date(s * 1000).toLocaleTimeString();
		text(svg, ML, H - 6, tm(x0), '', 'start');
		text(svg, W - MR, H - 6, tm(x1), '', 'end');
		let pts = [], prevEnd = x0;
		for (const r of rows) {
			if (r.start > prevEnd)
				pts.push([X(prevEnd), Y(0)], [X(r.start), Y(0)]);
			pts.push([X(r.start), Y(r.bandwidth)], [X(r.end), Y(r.bandwidth)]);
			prevEnd = r.end;
		}
		el('polyline', { points: pts.map((p) => p[0].toFixed(1) + ',' + p[1].toFixed(1)).join(' '), fill: 'none',
			stroke: '#1570ef', 'stroke-width': 1.5 }, svg);
		svg.setAttribute('data-samples', rows.length);
		return svg;
	}

	/* writes: only when vwired runs with --http-write; the credential is
	 * sent as "Authorization: Bearer" and kept for this tab only */
	function commandForm(l) {
		const tok = h('input', { type: 'password', placeholder: 'credential (--http-write file)', autocomplete: 'off' });
		tok.value = sessionStorage.getItem('vwire-token') || '';
		const cmd = h('input', { type: 'text', value: 'set-linkprop -p maxbw=100M ' + l.link });
		const out = h('pre', { class: 'out' });
		const form = h('form', { class: 'cmd' }, [tok, cmd, h('button', { type: 'submit' }, ['Run']), out]);
		form.addEventListener('submit', async (ev) => {
			ev.preventDefault();
			sessionStorage.setItem('vwire-token', tok.value);
			try {
				const r = await fetch('/api/command', { method: 'POST', body: cmd.value,
					headers: { 'Authorization': 'Bearer ' + tok.value, 'Content-Type': 'text/plain' } });
				const t = await r.text();
				let msg = t;
				try {
					const j = JSON.parse(t);
					msg = j.status ? j.message : 'ok' + (j.records.length ? '\n' + JSON.stringify(j.records, null, 1) : '');
				} catch (e) { /* a one-line refusal */ }
				out.textContent = r.status + ': ' + msg;
				loadTopology();
			} catch (e) {
				out.textContent = String(e);
			}
		});
		return h('div', {}, [h('h3', {}, ['Run a vwadm command']), form]);
	}

	function start() {
		$('drawing').addEventListener('click', (ev) => {
			const g = ev.target.closest('[data-link]');
			if (g)
				select(g.getAttribute('data-link'));
		});
		$('close').addEventListener('click', () => {
			selected = null;
			$('panel').hidden = true;
			draw();
		});
		let resized = null;
		window.addEventListener('resize', () => {
			clearTimeout(resized);
			resized = setTimeout(() => topo && draw(), 200);
		});
		topoLoop();
		statsLoop();
	}

	if (document.readyState === 'loading')
		document.addEventListener('DOMContentLoaded', start);
	else
		start();
})();
