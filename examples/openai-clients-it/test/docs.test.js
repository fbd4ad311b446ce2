// docs/openai-compat.md shows the snippets this suite runs, character for character.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const guide = readFileSync(join(root, '..', '..', 'docs', 'openai-compat.md'), 'utf8');

for (const file of readdirSync(join(root, 'snippets'))) {
  test(`docs/openai-compat.md shows snippets/${file} as it runs`, () => {
    const code = readFileSync(join(root, 'snippets', file), 'utf8').trimEnd();
    assert.ok(guide.includes('```js\n' + code + '\n```'), `copy examples/openai-clients-it/snippets/${file} into docs/openai-compat.md`);
  });
}
