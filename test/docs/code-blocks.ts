/**
 * The code blocks of the user docs (README.md, docs/*.md) that claim to run:
 * every ```ts block, except one whose preceding line is an HTML comment
 * starting with `<!-- fragment` (an excerpt that cannot run on its own, e.g.
 * it needs a Kafka broker). The convention is written down in
 * docs/code-examples.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export interface CodeBlock {
  /** Markdown file, relative to the repository root. */
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** A file-name-safe identifier: `README-1`, `docs-model-1`, … (n-th runnable block of the file). */
  id: string;
  code: string;
}

const FENCE = /^```(\w+)?\s*$/;

/** Every block of `lang` in one markdown text, with whether it is marked as a fragment. */
export function codeBlocks(markdown: string, lang = 'ts'): { line: number; code: string; fragment: boolean }[] {
  const lines = markdown.split('\n');
  const out: { line: number; code: string; fragment: boolean }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = FENCE.exec(lines[i]!);
    if (!m) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) throw new Error(`unclosed code fence at line ${i + 1}`);
    if (m[1] === lang) {
      const prev = i > 0 ? lines[i - 1]!.trim() : '';
      out.push({ line: i + 1, code: lines.slice(i + 1, end).join('\n') + '\n', fragment: prev.startsWith('<!-- fragment') });
    }
    i = end;
  }
  return out;
}

/** The runnable blocks of README.md and docs/*.md under `root`. */
export function runnableBlocks(root: string): CodeBlock[] {
  const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
  const out: CodeBlock[] = [];
  for (const doc of docs) {
    const stem = doc === 'README.md' ? 'README' : `docs-${basename(doc, '.md')}`;
    let n = 0;
    for (const b of codeBlocks(readFileSync(join(root, doc), 'utf8'))) {
      if (!b.fragment) out.push({ doc, line: b.line, id: `${stem}-${++n}`, code: b.code });
    }
  }
  return out;
}
