// Splits shell text into commands and words the way a POSIX shell would for the simple lines talhelper
// writes: single and double quotes, backslash escapes, `;`, `&&` and newlines between commands, `#`
// comments. Anything that needs a real shell (variables, substitutions, pipes) is refused, not guessed.
import { UsageError } from '../usage-error.ts';

export interface ShellCommand {
  /** 1-based line where the command starts. */
  line: number;
  words: string[];
}

export function splitShell(text: string): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  let line = 1;
  let startLine = 1;
  const endWord = () => {
    if (inWord) words.push(word);
    word = '';
    inWord = false;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) commands.push({ line: startLine, words });
    words = [];
  };
  const refuse = (what: string) => {
    throw new UsageError(`line ${line}: ${what} needs a shell; give plain talosctl apply-config lines (quotes, ; and # comments are fine)`);
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (!inWord && words.length === 0) startLine = line;
    if (c === '\n') {
      endCommand();
      line++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      endWord();
      continue;
    }
    if (c === ';') {
      endCommand();
      continue;
    }
    if (c === '&' && text[i + 1] === '&') {
      endCommand();
      i++;
      continue;
    }
    if (c === '#' && !inWord) {
      while (i < text.length && text[i] !== '\n') i++;
      i--;
      continue;
    }
    if (c === '|' || c === '&' || c === '`' || c === '<' || c === '>' || (c === '$' && /[({A-Za-z_]/.test(text[i + 1] ?? ''))) {
      refuse(`"${c === '$' ? `$${text[i + 1]}` : c}"`);
    }
    if (c === '\\') {
      const next = text[i + 1];
      if (next === '\n') {
        i++;
        line++;
        continue;
      }
      if (next !== undefined) {
        word += next;
        inWord = true;
        i++;
      }
      continue;
    }
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new UsageError(`line ${line}: a single quote is not closed`);
      const quoted = text.slice(i + 1, end);
      line += quoted.split('\n').length - 1;
      word += quoted;
      inWord = true;
      i = end;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        const d = text[j] as string;
        if (d === '\\' && ['"', '\\', '$', '`', '\n'].includes(text[j + 1] ?? '')) {
          if (text[j + 1] !== '\n') word += text[j + 1];
          else line++;
          j++;
          continue;
        }
        if (d === '$' && /[({A-Za-z_]/.test(text[j + 1] ?? '')) refuse(`"$${text[j + 1]}"`);
        if (d === '`') refuse('"`"');
        if (d === '\n') line++;
        word += d;
      }
      if (j >= text.length) throw new UsageError(`line ${line}: a double quote is not closed`);
      inWord = true;
      i = j;
      continue;
    }
    word += c;
    inWord = true;
  }
  endCommand();
  return commands;
}
