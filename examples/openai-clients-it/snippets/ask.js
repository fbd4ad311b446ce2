import OpenAI from 'openai';

/** Asks an agent (the model) one question through the Responses API; resolves with the answer's text. */
export async function ask({ baseURL, apiKey, agent, question }) {
  const client = new OpenAI({ baseURL, apiKey }); // baseURL: 'https://your-server/v1', apiKey: a Parley token
  const response = await client.responses.create({ model: agent, input: question });
  return response.output_text;
}
