import { describe, expect, it } from 'vitest';
import { renderSequenceSvg, shortSummary } from '../../src/trace/diagram/sequence.js';
import { builder, pingOverVeth, routedWithTtlDrop } from './sample-events.js';
import { allText, byClass, findAll, parseXml, type XmlNode } from './xml.js';

const lifelines = (root: XmlNode) =>
  byClass(root, 'lifeline').map((n) => `${n.attrs['data-ns']}/${n.attrs['data-dev']}`);
const lineX = (n: XmlNode) => Number(findAll(n, (c) => c.name === 'line')[0]!.attrs.x1);

describe('renderSequenceSvg', () => {
  it('draws a lifeline per device, arrows for received frames, notes for sockets', () => {
    const svg = renderSequenceSvg(pingOverVeth(), { title: 'ping a → b' });
    const root = parseXml(svg);
    expect(root.name).toBe('svg');
    expect(root.attrs.xmlns).toBe('http://www.w3.org/2000/svg');
    expect(Number(root.attrs.width)).toBeGreaterThan(300);
    expect(lifelines(root)).toEqual(['a/eth0', 'b/eth0']);
    const frames = byClass(root, 'frame');
    expect(frames.map((f) => `${f.attrs['data-from']}>${f.attrs['data-to']}`)).toEqual([
      'a/eth0>b/eth0',
      'b/eth0>a/eth0',
      'a/eth0>b/eth0',
      'b/eth0>a/eth0',
    ]);
    // Labels are the summaries without the trailing length; the full summary is the tooltip.
    const labels = frames.map((f) => allText(findAll(f, (c) => c.name === 'text')[0]!));
    expect(labels[0]).toBe('ARP, Request who-has 10.0.0.2 tell 10.0.0.1');
    expect(labels[2]).toBe('IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1');
    expect(allText(findAll(frames[2]!, (c) => c.name === 'title')[0]!)).toBe(
      'IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64',
    );
    expect(byClass(root, 'note').map((n) => allText(n))).toEqual([
      'icmp reply: echo reply id 1 seq 1 to 10.0.0.1',
      'icmp recv: 64 bytes from 10.0.0.2: icmp_seq=1 ttl=64',
    ]);
    expect(byClass(root, 'lost')).toEqual([]);
    expect(byClass(root, 'drop')).toEqual([]);
    // arrows point the right way: the head of a→b sits at b's lifeline
    const [ax, bx] = byClass(root, 'lifeline').map(lineX);
    const headOf = (f: XmlNode) => findAll(f, (c) => c.name === 'path')[1]!.attrs.d!;
    expect(headOf(frames[0]!).startsWith(`M${bx},`)).toBe(true);
    expect(headOf(frames[1]!).startsWith(`M${ax},`)).toBe(true);
    expect(svg).toContain('0.000003000');
  });

  it('groups lifelines by namespace, marks drops and frames nobody received', () => {
    const root = parseXml(renderSequenceSvg(routedWithTtlDrop()));
    expect(lifelines(root)).toEqual(['a/eth0', 'r/eth0', 'r/eth1', 'r/dummy0', 'b/eth0', 'b/']);
    const xs = byClass(root, 'lifeline').map(lineX);
    expect([...xs].sort((p, q) => p - q)).toEqual(xs);
    expect(new Set(xs).size).toBe(xs.length);
    const drops = byClass(root, 'drop');
    expect(drops.map((d) => [d.attrs['data-at'], d.attrs['data-reason']])).toEqual([
      ['r/eth0', 'TTL_EXPIRED'],
      ['b/', 'NO_ROUTE'],
    ]);
    expect(allText(drops[0]!)).toContain('TTL_EXPIRED: ttl 1 reached 0 in ipForward');
    expect(byClass(root, 'lost').map((l) => l.attrs['data-at'])).toEqual(['r/dummy0']);
    expect(byClass(root, 'frame').length).toBe(
      routedWithTtlDrop().filter((e) => e.type === 'dev' && e.dir === 'rx').length,
    );
    // forwarded packets get a connector from the device they came in on to the one they leave by
    const vias = byClass(root, 'via');
    expect(vias.map((v) => v.attrs['data-via'])).toEqual(['r/eth0', 'r/eth1']);
    const parentOf = (n: XmlNode) => byClass(root, 'frame').find((f) => f.children.includes(n))!;
    expect(vias.map((v) => parentOf(v).attrs['data-from'])).toEqual(['r/eth1', 'r/eth0']);
    // the namespace-level lifeline is labelled as such
    expect(allText(byClass(root, 'lifeline')[5]!)).toBe('stack');
  });

  it('keeps rows in event order with their virtual time, one row per drawn event', () => {
    const root = parseXml(renderSequenceSvg(routedWithTtlDrop()));
    const times = findAll(root, (n) => n.name === 'text' && /^\d+\.\d{9}$/.test(n.text));
    expect(times.map((n) => n.text)).toEqual([
      '1.000001000',
      '1.000002000',
      '1.000003000',
      '1.000004000',
      '2.000001000',
      '2.000001000',
      '2.000002000',
      '3.000000000',
      '3.000000005',
    ]);
    const ys = times.map((n) => Number(n.attrs.y));
    for (let i = 1; i < ys.length; i++) expect(ys[i]! - ys[i - 1]!).toBeGreaterThanOrEqual(30);
  });

  it('draws found messages, self-loops, and filters by step', () => {
    const { events, add, frame } = builder();
    frame(5, 'x', 'eth0', 1, 'rx', 'IP 192.0.2.1 > 10.0.0.5: UDP, length 4');
    frame(6, 'x', 'lo', 2, 'tx', 'IP 127.0.0.1 > 127.0.0.1: ICMP echo request, id 3, seq 1, length 64');
    frame(6, 'x', 'lo', 2, 'rx', 'IP 127.0.0.1 > 127.0.0.1: ICMP echo request, id 3, seq 1, length 64', 'x/lo');
    add(7, 'y', 3, { type: 'dev', dir: 'tx', dev: 'eth0', len: 60, summary: 'later' }, 1);
    const root = parseXml(renderSequenceSvg(events, { step: 0 }));
    expect(lifelines(root)).toEqual(['x/eth0', 'x/lo']);
    expect(byClass(root, 'found').map((f) => f.attrs['data-at'])).toEqual(['x/eth0']);
    expect(byClass(root, 'frame').map((f) => `${f.attrs['data-from']}>${f.attrs['data-to']}`)).toEqual(['x/lo>x/lo']);
    expect(lifelines(parseXml(renderSequenceSvg(events, { step: 1 })))).toEqual(['y/eth0']);
  });

  it('escapes markup in names and summaries', () => {
    const { events, add, frame } = builder();
    const evil = `<script>alert("x") & 'y'</script>`;
    frame(1, 'a&b', 'eth0', 1, 'tx', evil);
    frame(2, 'c<d', 'eth0', 1, 'rx', evil, 'a&b/eth0');
    add(3, 'c<d', 1, { type: 'drop', reason: 'NETFILTER_DROP', detail: `rule "-j DROP" <x>`, dev: 'eth0' });
    add(4, 'c<d', 1, { type: 'sock', proto: 'udp', action: 'deliver', detail: 'to :53 \u0001bell' });
    const svg = renderSequenceSvg(events, { title: 'a & b <title>' });
    expect(svg).not.toContain('<script');
    const root = parseXml(svg);
    expect(lifelines(root)).toEqual(['a&b/eth0', 'c<d/eth0']);
    expect(allText(byClass(root, 'frame')[0]!)).toContain(evil);
    expect(allText(byClass(root, 'drop')[0]!)).toContain('NETFILTER_DROP: rule "-j DROP" <x>');
    expect(allText(byClass(root, 'note')[0]!)).toBe('udp deliver: to :53 \ufffdbell');
    expect(allText(findAll(root, (n) => n.name === 'title')[0]!)).toBe('a & b <title>');
  });

  it('renders an empty trace and is deterministic', () => {
    expect(() => parseXml(renderSequenceSvg([]))).not.toThrow();
    expect(renderSequenceSvg(routedWithTtlDrop(), { title: 't' })).toBe(
      renderSequenceSvg(routedWithTtlDrop(), { title: 't' }),
    );
  });

  it('shortens summaries sensibly', () => {
    expect(shortSummary('IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1, length 64', 80)).toBe(
      'IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 1',
    );
    expect(shortSummary('IP 10.0.0.1.1234 > 10.0.0.2.80: Flags [S], seq 1, win 64240, length 0', 30)).toBe(
      'IP 10.0.0.1.1234 > 10.0.0.2.8…',
    );
    expect(
      shortSummary(
        'IP 10.0.0.1.40000 > 10.0.0.2.5432: Flags [S], seq 1000, win 64240, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0',
        60,
      ),
    ).toBe('IP 10.0.0.1.40000 > 10.0.0.2.5432: Flags [S], seq 1000');
    expect(shortSummary('ARP,  Request\twho-has 10.0.0.2', 80)).toBe('ARP, Request who-has 10.0.0.2');
  });
});
