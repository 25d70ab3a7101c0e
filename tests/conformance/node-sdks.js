// Drives a running `ccaictl emulator` with Google's generated Node.js
// clients as shipped, over their REST transport: @google-cloud/dialogflow-cx,
// @google-cloud/dialogflow, @google-cloud/contact-center-insights (fallback:
// true, apiEndpoint, port, protocol 'http') and @google-cloud/storage
// (apiEndpoint, useAuthWithCustomEndpoint).  They send
// `$alt=json;enum-encoding=int`, enums as proto numbers, and authenticate
// with self-signed JWTs made from the emulator's key file; nothing in their
// requests is rewritten.  Usage: node node-sdks.js BASE_URL DATA_DIR
// Prints "conformance: node-sdks ok (N checks)" or fails.
'use strict';

const path = require('path');
const assert = require('assert');
const cx = require('@google-cloud/dialogflow-cx');
const df = require('@google-cloud/dialogflow');
const cci = require('@google-cloud/contact-center-insights');
const {Storage} = require('@google-cloud/storage');
const {google} = require('googleapis');

const [base, dataDir] = process.argv.slice(2);
const url = new URL(base);
const keyFilename = path.join(dataDir, 'credentials.json');
const opts = {
  apiEndpoint: url.hostname,
  port: Number(url.port),
  protocol: 'http',
  fallback: true,
  keyFilename,
};
const project = 'node-sdk-1';
const parent = `projects/${project}/locations/global`;
// Insights has no global location: Dialogflow's global data is here
const insightsParent = `projects/${project}/locations/us-central1`;
let checks = 0;

function ok(cond, what) {
  assert.ok(cond, what);
  checks++;
}

function eq(a, b, what) {
  assert.deepStrictEqual(a, b, what);
  checks++;
}

// An error as the clients report it: a GoogleError with the gRPC code, or
// (google-gax 5 over google-auth-library 10's fetch) the GaxiosError of the
// HTTP answer, whose body then carries Google's error.
async function expectCode(promise, want, what) {
  try {
    await promise;
  } catch (e) {
    let got = e.code;
    if (e.response && e.response.status && typeof e.message === 'string' &&
        e.message.startsWith('{')) {
      const body = JSON.parse(e.message).error;
      got = body.status ? `${body.code} ${body.status}` : `${body.code}`;
    } else if (typeof got === 'number' && got < 20) {
      got = `grpc ${got}`;
    }
    ok(want.includes(got), `${what}: ${got} (${e.message})`);
    return e;
  }
  throw new Error(`${what}: no error`);
}

const NOT_FOUND = ['grpc 5', '404 NOT_FOUND'];
const ALREADY_EXISTS = ['grpc 6', '409 ALREADY_EXISTS'];
const FAILED_PRECONDITION = ['grpc 9', '400 FAILED_PRECONDITION'];
const INVALID_ARGUMENT = ['grpc 3', '400 INVALID_ARGUMENT'];

async function enableApis() {
  // Service Usage has no generated client in the list; the discovery one
  // with a self-signed JWT client of the same key file.
  const auth = new google.auth.GoogleAuth({
    keyFilename,
    scopes: ['https://www.googleapis.com/auth/cloud-platform'],
  });
  const client = await auth.getClient();
  client.useJWTAccessWithScope = true;  // no token endpoint
  const su = google.serviceusage({version: 'v1', auth: client,
                                  rootUrl: base + '/'});
  let op = (await su.services.batchEnable({
             parent: `projects/${project}`,
             requestBody: {serviceIds: ['dialogflow.googleapis.com',
                                        'contactcenterinsights.googleapis.com']},
           })).data;
  while (!op.done) op = (await su.operations.get({name: op.name})).data;
  ok(op.response.services.length === 2, 'services enabled');
}

async function dialogflowCx() {
  const ssc = new cx.SecuritySettingsServiceClient(opts);
  // enums as proto numbers: REDACT_DISK_STORAGE = 2 (1 is reserved)
  const [ss] = await ssc.createSecuritySettings({
    parent,
    securitySettings: {
      displayName: 'insights-export',
      redactionStrategy: 'REDACT_WITH_SERVICE',
      redactionScope: 'REDACT_DISK_STORAGE',
      purgeDataTypes: ['DIALOGFLOW_HISTORY'],
      retentionStrategy: 'RETENTION_STRATEGY_UNSPECIFIED',
      retentionWindowDays: 30,
      insightsExportSettings: {enableInsightsExport: true},
    },
  });
  eq(ss.redactionScope, 'REDACT_DISK_STORAGE', 'cx: redactionScope');
  eq(ss.redactionStrategy, 'REDACT_WITH_SERVICE', 'cx: redactionStrategy');
  eq(ss.purgeDataTypes, ['DIALOGFLOW_HISTORY'], 'cx: purgeDataTypes');
  const [got] = await ssc.getSecuritySettings({name: ss.name});
  eq(got.displayName, 'insights-export', 'cx: get security settings');
  const [upd] = await ssc.updateSecuritySettings({
    securitySettings: {name: ss.name, retentionWindowDays: 7},
    updateMask: {paths: ['retention_window_days']},
  });
  eq(upd.retentionWindowDays, 7, 'cx: update with a mask');
  for (let i = 0; i < 3; i++)
    await ssc.createSecuritySettings(
        {parent, securitySettings: {displayName: `spare-${i}`}});
  // the client pages by itself (pageSize 2: two more pages)
  const all = await ssc.listSecuritySettings(
      {parent, pageSize: 2}, {autoPaginate: true});
  eq(all[0].length, 4, 'cx: list security settings over pages');
  const spare = all[0].find((x) => x.displayName === 'spare-0');
  await ssc.deleteSecuritySettings({name: spare.name});
  await expectCode(ssc.getSecuritySettings({name: spare.name}),
                   NOT_FOUND, 'cx: deleted security settings');

  const ac = new cx.AgentsClient(opts);
  const [agent] = await ac.createAgent({
    parent,
    agent: {
      displayName: 'Support bot',
      defaultLanguageCode: 'en',
      timeZone: 'Europe/Madrid',
      securitySettings: ss.name,
    },
  });
  ok(agent.startFlow.endsWith('/flows/00000000-0000-0000-0000-000000000000'),
     'cx: agent start flow');
  await expectCode(ac.createAgent({parent, agent: {displayName: 'Support bot',
                                                   defaultLanguageCode: 'en',
                                                   timeZone: 'UTC'}}),
                   ALREADY_EXISTS, 'cx: duplicate agent');
  const [patched] = await ac.updateAgent({
    agent: {
      name: agent.name,
      advancedSettings: {loggingSettings: {enableInteractionLogging: true}},
    },
    updateMask: {
      paths: ['advanced_settings.logging_settings.enable_interaction_logging'],
    },
  });
  ok(patched.advancedSettings.loggingSettings.enableInteractionLogging,
     'cx: nested update mask');
  const [agents] = await ac.listAgents({parent});
  eq(agents.map((a) => a.name), [agent.name], 'cx: list agents');
  // long-running operations: metadata is a Struct in an Any
  const [restoreOp] = await ac.restoreAgent(
      {name: agent.name, agentUri: 'gs://bucket/agent.blob'});
  await restoreOp.promise();
  ok(restoreOp.done, 'cx: restore operation');
  const [exportOp] = await ac.exportAgent({name: agent.name});
  const [exported] = await exportOp.promise();
  ok(exported.agentContent && exported.agentContent.length > 0,
     'cx: export operation answers the agent');
  const [exportUri] = await ac.exportAgent(
      {name: agent.name, agentUri: 'gs://bucket/out.blob',
       dataFormat: 'JSON_PACKAGE'});
  eq((await exportUri.promise())[0].agentUri, 'gs://bucket/out.blob',
     'cx: export to a URI');

  const sc = new cx.SessionsClient(opts);
  const [answer] = await sc.detectIntent({
    session: `${agent.name}/sessions/node-sdk-session`,
    queryInput: {text: {text: 'hello'}, languageCode: 'en'},
    // the session reaches Insights when it ends: 60 s after this
    queryParams: {sessionTtl: {seconds: 60}},
  });
  ok(answer.queryResult.responseMessages.length > 0, 'cx: detectIntent');
  return {ss, agent};
}

async function dialogflowV2({ss, agent}) {
  const pc = new df.ConversationProfilesClient(opts);
  // KNOWLEDGE_SEARCH = 14, CONVERSATION_SUMMARIZATION = 8
  const [profile] = await pc.createConversationProfile({
    parent,
    conversationProfile: {
      displayName: 'Assist',
      securitySettings: ss.name,
      humanAgentAssistantConfig: {
        humanAgentSuggestionConfig: {
          featureConfigs: [
            {suggestionFeature: {type: 'SMART_REPLY'}},
            {suggestionFeature: {type: 'KNOWLEDGE_SEARCH'}},
            {suggestionFeature: {type: 'CONVERSATION_SUMMARIZATION'}},
          ],
        },
      },
    },
  });
  eq(profile.humanAgentAssistantConfig.humanAgentSuggestionConfig
         .featureConfigs.map((f) => f.suggestionFeature.type),
     ['SMART_REPLY', 'KNOWLEDGE_SEARCH', 'CONVERSATION_SUMMARIZATION'],
     'v2: feature types by proto number');
  const [profiles] = await pc.listConversationProfiles({parent});
  eq(profiles.length, 1, 'v2: list profiles');
  const [renamed] = await pc.updateConversationProfile({
    conversationProfile: {name: profile.name, displayName: 'Assist 2'},
    updateMask: {paths: ['display_name']},
  });
  eq(renamed.displayName, 'Assist 2', 'v2: update profile');
  const [vaProfile] = await pc.createConversationProfile({
    parent,
    conversationProfile: {
      displayName: 'Virtual agent',
      securitySettings: ss.name,
      automatedAgentConfig: {agent: agent.name},
    },
  });

  const cc = new df.ConversationsClient(opts);
  const pp = new df.ParticipantsClient(opts);
  const [conv] = await cc.createConversation(
      {parent, conversation: {conversationProfile: profile.name}});
  eq(conv.lifecycleState, 'IN_PROGRESS', 'v2: conversation in progress');
  eq(conv.conversationStage, 'HUMAN_ASSIST_STAGE', 'v2: stage');
  const [human] = await pp.createParticipant(
      {parent: conv.name, participant: {role: 'HUMAN_AGENT'}});
  const [user] = await pp.createParticipant(
      {parent: conv.name, participant: {role: 'END_USER'}});
  eq(user.role, 'END_USER', 'v2: participant role');
  const [analysis] = await pp.analyzeContent({
    participant: user.name,
    textInput: {text: 'where is my order', languageCode: 'en-US'},
  });
  ok(analysis.humanAgentSuggestionResults.length >= 1, 'v2: suggestions');
  await pp.analyzeContent({
    participant: human.name,
    textInput: {text: 'checking now', languageCode: 'en-US'},
  });
  const [parts] = await pp.listParticipants({parent: conv.name});
  eq(parts.length, 2, 'v2: list participants');
  eq((await pp.getParticipant({name: human.name}))[0].role, 'HUMAN_AGENT',
     'v2: get participant');
  const [messages] = await cc.listMessages({parent: conv.name});
  eq(messages.length, 2, 'v2: list messages');
  const [done] = await cc.completeConversation({name: conv.name});
  eq(done.lifecycleState, 'COMPLETED', 'v2: complete');
  await expectCode(cc.completeConversation({name: conv.name}),
                   FAILED_PRECONDITION, 'v2: complete twice');
  const [inProgress] = await cc.listConversations(
      {parent, filter: 'lifecycle_state = "COMPLETED"'});
  eq(inProgress.map((c) => c.name), [conv.name], 'v2: list with a filter');
  eq((await cc.getConversation({name: conv.name}))[0].name, conv.name,
     'v2: get conversation');

  const [conv2] = await cc.createConversation(
      {parent, conversation: {conversationProfile: vaProfile.name}});
  eq(conv2.conversationStage, 'VIRTUAL_AGENT_STAGE', 'v2: virtual agent');
  const [user2] = await pp.createParticipant(
      {parent: conv2.name, participant: {role: 'END_USER'}});
  const [reply] = await pp.analyzeContent(
      {participant: user2.name, textInput: {text: 'hi', languageCode: 'en'}});
  ok(reply.automatedAgentReply && reply.replyText, 'v2: automated reply');
  await cc.completeConversation({name: conv2.name});
  await pc.deleteConversationProfile({name: renamed.name}).catch(() => {});
  return conv;
}

async function insights(conv) {
  const ic = new cci.ContactCenterInsightsClient(opts);
  const [settings] = await ic.updateSettings({
    settings: {
      name: `${insightsParent}/settings`,
      analysisConfig: {runtimeIntegrationAnalysisPercentage: 50},
    },
    updateMask: {paths: ['analysis_config.runtime_integration_analysis_percentage']},
  });
  eq(settings.analysisConfig.runtimeIntegrationAnalysisPercentage, 50,
     'insights: update settings');
  eq((await ic.getSettings({name: `${insightsParent}/settings`}))[0].name,
     `${insightsParent}/settings`, 'insights: get settings');
  await expectCode(ic.getSettings({name: `${parent}/settings`}),
                   INVALID_ARGUMENT, 'insights: no global location');
  // ConversationView: FULL = 2, BASIC = 1 (discovery lists FULL first)
  const [full] = await ic.listConversations(
      {parent: insightsParent, view: 'FULL'});
  // Dialogflow's own ids are not Insights ids: found by the link
  const one = full.find(
      (c) => c.dataSource.dialogflowSource.dialogflowConversation ===
          conv.name);
  ok(one && one.transcript && one.transcript.transcriptSegments.length === 2,
     'insights: FULL view has the transcript');
  const [basic] = await ic.listConversations(
      {parent: insightsParent, view: 'BASIC'});
  ok(basic.length === full.length && !basic[0].transcript,
     'insights: BASIC view has none');
  eq(one.medium, 'CHAT', 'insights: medium');
  const [got] = await ic.getConversation({name: one.name});
  eq(got.dataSource.dialogflowSource.dialogflowConversation, conv.name,
     'insights: get conversation');
  await expectCode(
      ic.getConversation(
          {name: `${insightsParent}/conversations/node-sdk-session`}),
      NOT_FOUND, 'insights: no session before it ends');
  const moved = await fetch(base + '/__emulator/clock',
                            {method: 'POST', body: 'advance=61s'});
  ok(moved.ok, 'insights: the emulator clock moved past the session end');
  const [session] = await ic.getConversation(
      {name: `${insightsParent}/conversations/node-sdk-session`});
  eq(session.turnCount, 2, 'insights: the CX session');
  await ic.deleteConversation({name: one.name});
  await expectCode(ic.getConversation({name: one.name}), NOT_FOUND,
                   'insights: deleted conversation');
}

async function storage() {
  const gcs = new Storage({
    apiEndpoint: base,
    keyFilename,
    projectId: project,
    useAuthWithCustomEndpoint: true,
  });
  // Its google-auth-library (9) sends a key's JWT grant to Google's own
  // token URL whatever the key file says; a self-signed JWT (what the
  // generated clients use) needs no token endpoint.
  gcs.authClient.useJWTAccessWithScope = true;
  const [bucket] = await gcs.createBucket('node-sdk-bucket-1',
                                          {location: 'EU'});
  const [bmeta] = await bucket.getMetadata();
  eq(bmeta.location, 'EU', 'storage: bucket');
  const file = bucket.file('dir/state.json');
  // Multipart uploads: @google-cloud/storage 7.22 sends the first request
  // of a resumable upload (file.save's default) without credentials to a
  // custom endpoint (startResumableUpload_ does not pass
  // useAuthWithCustomEndpoint on), which the emulator, like Google,
  // answers 401.  docs/emulator.md says so.
  await file.save('{"v":1}', {contentType: 'application/json',
                              resumable: false});
  const [meta] = await file.getMetadata();
  eq(meta.size, '7', 'storage: size');
  ok(meta.crc32c && meta.md5Hash && meta.mediaLink && meta.selfLink,
     'storage: crc32c, md5Hash, mediaLink, selfLink');
  await bucket.file('small.txt').save('hello', {resumable: false});
  eq((await bucket.file('small.txt').download())[0].toString(), 'hello',
     'storage: multipart upload, download');
  eq((await file.download())[0].toString(), '{"v":1}',
     'storage: download with validation');
  const gen = meta.generation;
  await expectCode(
      file.save('{"v":2}', {preconditionOpts: {ifGenerationMatch: 1},
                            resumable: false}),
      [412], 'storage: stale generation');
  await file.save('{"v":2}', {preconditionOpts: {ifGenerationMatch: gen},
                             resumable: false});
  const [files] = await bucket.getFiles();
  eq(files.map((f) => f.name), ['dir/state.json', 'small.txt'],
     'storage: list objects');
  const [dirOnly] = await bucket.getFiles({prefix: 'dir/'});
  eq(dirOnly.length, 1, 'storage: list with a prefix');
  eq((await bucket.file('nope').exists())[0], false, 'storage: exists');
  await expectCode(bucket.delete(), [409], 'storage: bucket not empty');
  await file.delete();
  await bucket.file('small.txt').delete();
  await bucket.delete();
  eq((await bucket.exists())[0], false, 'storage: bucket deleted');
}

async function main() {
  await enableApis();
  const cxr = await dialogflowCx();
  const conv = await dialogflowV2(cxr);
  await insights(conv);
  await storage();
  console.log(`conformance: node-sdks ok (${checks} checks)`);
}

main().catch((e) => {
  console.error('conformance: node-sdks FAILED:', e && e.stack ? e.stack : e);
  process.exit(1);
});
