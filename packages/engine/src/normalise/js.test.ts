// Golden cases for the script view: each expected output is what clamscan 1.4.6 wrote to its
// `javascript` temporary file (--leave-temps) for the same HTML.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { normaliseHtml } from './html.js';
import { normaliseScripts, scriptEnd } from './js.js';

const enc = new TextEncoder();
const dec = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const scripts = (html: string): string => dec(normaliseHtml(enc.encode(html), { maxBytes: 1 << 20 }).script);
const one = (js: string): string => scripts(`<p>x</p><script>${js}</script>\n`);

const GOLDEN: readonly [string, string][] = [
  // Declared names renamed in order of declaration, other names kept, all lower-cased.
  [
    'var Foo = \'Hello\' + "World";\nfunction bar(x, y) { var z = x + y; return z * 007 + 1.50 + 0x41; }',
    '<script>var n000="helloworld";function n001(n002,n003){var n004=n002+n003;return n004*7+1.5+0 x41;}</script>',
  ],
  // A second declaration gives a new number to every use; Abc and abc are different names.
  [
    'var ABC = 1; abc = ABC; var ABC; var q$_1, r2 = [1,2], s3;',
    '<script>var n001=1;abc=n001;var n001;var n002,n003=[1,2],n004;</script>',
  ],
  // Member names and names declared only inside a function (from outside it) are kept.
  [
    'function outer(a) { var b = a; function inner(c) { return a + b + c + d; } var d; } outer.call(this).x . y;',
    '<script>function n000(n001){var n002=n001;function n003(n004){return n001+n002+n004+n005;}var n005;}outer.call(this).x.y;</script>',
  ],
  // String escapes, including ClamAV's handling of bad ones.
  ["x = '\\0|\\\\|a\\\"b|it\\'s|\\x4|\\u12|\\xzz';", '<script>x="\x01|\\|a"b|it\'s|\xff\xef\xbf\xbfxzz";</script>'],
  // Numbers: atoi on 32 bits, %g for decimals.
  [
    'y = 1e5 + 1.5e3 + 0.000001 + 123456789.0 + 99999999999 + 2147483648 + 1.e2 + 3.14159265;',
    '<script>y=1 e5+1500+1e-06+1.23457e+08+1215752191+-2147483648+100+3.14159;</script>',
  ],
  // A `//` comment ends at a space; `/* */` comments go; odd characters are dropped.
  ['// comment here\n/* multi\nline */ document.write(a) @ # é', '<script>comment here document.write(a)</script>'],
  // HTML comment markers and character references are tokens like any other.
  [
    '<!-- hide\na &lt; b && c >>>= 2 !== a+++b; \\u0041bc /ab+c/g;\n// -->',
    '<script><!--hide a&lt;b&&c>>>=2!==a+++b;\\0041bc/ab+c/g;--></script>',
  ],
  // unescape() and eval() on string arguments; an unclosed string and parentheses are closed.
  [
    's = unescape("%41%u0042") + eval("var q = 1; q"); f((1, "open',
    '<script>s="ab"+var n000=1;f((1,"open</script> "))</script>',
  ],
  // Keywords are case-sensitive.
  ['VAR X = 1; Function(y)', '<script>var x=1;function(y)</script>'],
];

test('the script view matches what clamscan 1.4.6 writes', () => {
  for (const [js, want] of GOLDEN) assert.equal(one(js), want, js);
});

test('every <script> goes in, whatever its language; scripts are separated by a line feed', () => {
  const html = '<script src="x.js"></script>\n<SCRIPT language="vbscript">Dim A\nA = 1</SCRIPT><p>t</p>';
  assert.equal(scripts(html), '<script></script>\n<script>dim a a=1</script>');
  assert.equal(scripts('<p>no scripts</p>'), '');
  // A script cut by the end of the file: its last name is lost, as in ClamAV.
  assert.equal(scripts('<script>var open = "x'), '<script>var n000="x"</script>');
  assert.equal(scripts('<script>var a = b'), '<script>var n000=</script>');
});

test('a <script> inside a script starts nothing, and <! inside one runs to the next >', () => {
  assert.equal(scripts('<script>a<script>b</script>'), '<script>a<script>b</script>');
  assert.equal(scripts('<script>a<!-- </script> -->b</script>'), '<script>a<!--</script>-->b</script>');
  const d = enc.encode('<script>x</script >  y');
  // ClamAV stops at the white space after the tag name, before the `>`.
  assert.equal(scriptEnd(d, 8), 18);
});

test('hostile input never throws and the view stays bounded', () => {
  const piece = fc.constantFrom(
    '<script>',
    '</script>',
    'var ',
    'function ',
    'eval("',
    'unescape(',
    '"',
    "'",
    '\\',
    '(',
    ')',
    '{',
    '}',
    '/*',
    '//',
    ' ',
    'a',
    '1.5e',
    '+',
    '<!',
    '>',
  );
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 400 }),
    fc.array(piece, { maxLength: 80 }).map((p) => enc.encode(p.join(''))),
  );
  fc.assert(
    fc.property(input, (d) => {
      const v = normaliseHtml(d, { maxBytes: 1 << 20 });
      let n = 0;
      for (let i = d.indexOf(0x3c); i >= 0; i = d.indexOf(0x3c, i + 1)) n++;
      assert.ok(v.script.length <= 2 * d.length + 64 * n, `${v.script.length} > bound for ${d.length}`);
    }),
    { numRuns: 2000 },
  );
  // Deeply nested evals and many parentheses stay within the cap too.
  const nested = enc.encode(`<script>${'eval("'.repeat(200)}${'('.repeat(5000)}</script>`);
  assert.ok(normaliseScripts(nested, [[8, nested.length]]).length <= 2 * nested.length + 64);
});

test('names past MAX_NAMES are written as they are', () => {
  const names = Array.from({ length: 70_000 }, (_, i) => `v${i}`);
  const out = one(`var ${names.join(',')}; ${names[0]}; ${names[69_999]};`);
  assert.ok(out.includes(';n000;v69999;'), out.slice(-40));
});
