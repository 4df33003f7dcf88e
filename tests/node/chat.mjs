// chat.mjs — an ordinary program using the official OpenAI Node SDK:
// node chat.mjs BASE_URL [stream]. Prints "status provider-header text".
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.argv[2], apiKey: process.env.OPENAI_API_KEY, maxRetries: 0 });
const { data, response } = await client.chat.completions
  .create({ model: "gpt-4o", messages: [{ role: "user", content: "hi [rid:node]" }] })
  .withResponse();
console.log(response.status, response.headers.get("x-llmfallback-provider"), data.choices[0].message.content);
