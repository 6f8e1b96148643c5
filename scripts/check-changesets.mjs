// Fails when a changeset's front matter is not what `changeset version` can
// read. A formatter once turned the closing `---` into a markdown heading,
// which changesets rejects only at release time; this catches it in the tests.
import { readdirSync, readFileSync } from 'node:fs';

const dir = new URL('../.changeset/', import.meta.url);
const frontMatter = /^---\n(?:"@qwp\/[a-z0-9-]+": (?:major|minor|patch)\n)+---\n\n\S/;
const bad = readdirSync(dir)
  .filter((f) => f.endsWith('.md') && f !== 'README.md')
  .filter((f) => !frontMatter.test(readFileSync(new URL(f, dir), 'utf8')));
if (bad.length > 0) {
  console.error(`malformed changeset front matter in: ${bad.join(', ')}`);
  process.exit(1);
}
