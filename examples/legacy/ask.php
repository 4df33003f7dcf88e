<?php
// ask.php — a legacy PHP script: asks OpenAI's chat API one question with
// PHP's curl extension and prints the answer. It knows nothing of
// llmfallback; run it as
//   llmfallback --config examples/configs/cloud-to-ollama.json -- php examples/legacy/ask.php "question"
// OPENAI_BASE_URL (as the OpenAI SDKs read it) points it elsewhere.
if (($argv[1] ?? "") === "") {   // (as ask.sh: none, or an empty one)
    fwrite(STDERR, "usage: ask.php QUESTION\n");
    exit(2);
}
$question = $argv[1];
$base = getenv('OPENAI_BASE_URL') ?: 'https://api.openai.com/v1';
$ch = curl_init("$base/chat/completions");
curl_setopt_array($ch, [
    CURLOPT_POST => true,
    CURLOPT_RETURNTRANSFER => true,
    CURLOPT_HTTPHEADER => ['Content-Type: application/json',
                           'Authorization: Bearer ' . getenv('OPENAI_API_KEY')],
    CURLOPT_POSTFIELDS => json_encode(['model' => getenv('ASK_MODEL') ?: 'gpt-4o-mini',
                                       'messages' => [['role' => 'user', 'content' => $question]]]),
]);
$out = curl_exec($ch);
$status = curl_getinfo($ch, CURLINFO_RESPONSE_CODE);
if ($out === false || $status != 200) {
    fwrite(STDERR, "ask.php: the API said $status: " . substr((string)$out, 0, 200) . "\n");
    exit(1);
}
echo json_decode($out, true)['choices'][0]['message']['content'], "\n";
