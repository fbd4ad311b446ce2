import { createOpenAI } from '@ai-sdk/openai';
import { streamText } from 'ai';

/** Streams an agent's answer with the Vercel AI SDK, handing each text delta to `onDelta`; resolves with the whole text. */
export async function streamAnswer({ baseURL, apiKey, agent, prompt, onDelta = () => {} }) {
  const provider = createOpenAI({ baseURL, apiKey });
  const result = streamText({ model: provider(agent), prompt }); // provider.chat(agent) for Chat Completions
  let text = '';
  for await (const delta of result.textStream) {
    onDelta(delta);
    text += delta;
  }
  return text;
}
