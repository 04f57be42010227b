// A strict little XML reader for checking the SVG the diagrams write: balanced tags, quoted unique attributes,
// only the five predefined entities or character references, one root. Throws with the offset on anything else.

export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: XmlNode[];
  /** Direct character data, entities decoded. */
  text: string;
}

const NAME = /^[A-Za-z_:][\w.:-]*/;
const ENTITY = /^&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/;

function decode(raw: string, at: number): string {
  let out = '';
  for (let i = 0; i < raw.length; ) {
    if (raw[i] === '&') {
      const m = ENTITY.exec(raw.slice(i));
      if (!m) throw new Error(`bad entity at ${at + i}: ${raw.slice(i, i + 12)}`);
      const e = m[1]!;
      out +=
        e === 'amp'
          ? '&'
          : e === 'lt'
            ? '<'
            : e === 'gt'
              ? '>'
              : e === 'quot'
                ? '"'
                : e === 'apos'
                  ? "'"
                  : String.fromCodePoint(e.startsWith('#x') ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)));
      i += m[0].length;
    } else {
      out += raw[i];
      i++;
    }
  }
  return out;
}

export function parseXml(src: string): XmlNode {
  let i = 0;
  const stack: XmlNode[] = [];
  let root: XmlNode | null = null;
  const fail = (msg: string): never => {
    throw new Error(`${msg} at ${i}: ${JSON.stringify(src.slice(i, i + 40))}`);
  };
  if (src.startsWith('<?xml')) i = src.indexOf('?>') + 2;
  while (i < src.length) {
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i);
      if (end < 0) fail('unterminated comment');
      i = end + 3;
    } else if (src.startsWith('</', i)) {
      const m = NAME.exec(src.slice(i + 2));
      if (!m) fail('bad end tag');
      const top = stack.pop();
      if (!top || top.name !== m![0]) fail(`end tag </${m![0]}> does not close <${top?.name}>`);
      i += 2 + m![0].length;
      while (/\s/.test(src[i] ?? '')) i++;
      if (src[i] !== '>') fail('end tag not closed');
      i++;
    } else if (src[i] === '<') {
      const m = NAME.exec(src.slice(i + 1));
      if (!m) fail('bad start tag');
      if (root && stack.length === 0) fail('second root element');
      const node: XmlNode = { name: m![0], attrs: {}, children: [], text: '' };
      i += 1 + m![0].length;
      for (;;) {
        const ws = /^\s*/.exec(src.slice(i))![0].length;
        i += ws;
        if (src.startsWith('/>', i)) {
          i += 2;
          break;
        }
        if (src[i] === '>') {
          i++;
          stack.push(node);
          break;
        }
        if (ws === 0) fail('attributes must be separated by white space');
        const an = NAME.exec(src.slice(i));
        if (!an) fail('bad attribute name');
        i += an![0].length;
        if (src[i] !== '=') fail('attribute without value');
        const q = src[i + 1];
        if (q !== '"' && q !== "'") fail('unquoted attribute');
        const end = src.indexOf(q!, i + 2);
        if (end < 0) fail('unterminated attribute');
        const raw = src.slice(i + 2, end);
        if (raw.includes('<')) fail('< in attribute');
        if (Object.hasOwn(node.attrs, an![0])) fail(`duplicate attribute ${an![0]}`);
        node.attrs[an![0]] = decode(raw, i + 2);
        i = end + 1;
      }
      const parent = stack[stack.length - (stack.at(-1) === node ? 2 : 1)];
      if (parent) parent.children.push(node);
      else root = node;
    } else {
      const end = src.indexOf('<', i);
      const raw = src.slice(i, end < 0 ? src.length : end);
      const top = stack.at(-1);
      if (!top) {
        if (raw.trim() !== '') fail('text outside the root element');
      } else top.text += decode(raw, i);
      i += raw.length;
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack.at(-1)!.name}>`);
  if (!root) throw new Error('no root element');
  return root;
}

export function findAll(n: XmlNode, pred: (n: XmlNode) => boolean, out: XmlNode[] = []): XmlNode[] {
  if (pred(n)) out.push(n);
  for (const c of n.children) findAll(c, pred, out);
  return out;
}

/** Character data of `n` followed by that of its descendants. */
export function allText(n: XmlNode): string {
  return n.text + n.children.map(allText).join('');
}

export const byClass = (root: XmlNode, cls: string) =>
  findAll(root, (n) => (n.attrs.class ?? '').split(' ').includes(cls));
