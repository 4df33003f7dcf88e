// chat.mjs — an ordinary program using the official OpenAI Node SDK:
//   node chat.mjs BASE_URL          → "status provider-header text"
//   node chat.mjs BASE_URL stream   → "stream text" (the deltas joined)
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.argv[2], apiKey: process.env.OPENAI_API_KEY, maxRetries: 0 });
const messages = [{ role: "user", content: "hi [rid:node]" }];
if (process.argv[3] === "stream") {
  const stream = await client.chat.completions.create({ model: "gpt-4o", messages, stream: true });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  console.log("stream", text);
} else {
  const { data, response } = await client.chat.completions.create({ model: "gpt-4o", messages }).withResponse();
  console.log(response.status, response.headers.get("x-llmfallback-provider"), data.choices[0].message.content);
}
