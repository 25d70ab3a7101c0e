// Drives a running `ccaictl emulator` with Google's own Node.js client
// (npm googleapis, rootUrl overridden) through the product notes' set-up
// and the three use cases.  Usage: node googleapis.js BASE_URL DATA_DIR
// Prints "conformance: ok (N checks)" or throws.
'use strict';

const fs = require('fs');
const path = require('path');
const assert = require('assert');
const {google} = require('googleapis');
const {OAuth2Client, ExternalAccountClient} = require('google-auth-library');

const [base, dataDir] = process.argv.slice(2);
const rootUrl = base + '/';
const project = 'node-conf-1';
const parent = `projects/${project}/locations/global`;
// Insights has no global location: Dialogflow's global data is here
const insightsParent = `projects/${project}/locations/us-central1`;
let checks = 0;

function ok(cond, what) {
  assert.ok(cond, what);
  checks++;
}

async function expectError(promise, code, status, what) {
  try {
    await promise;
  } catch (e) {
    ok(e.code === code || e.status === code, `${what}: HTTP ${e.code}`);
    const body = e.response && e.response.data && e.response.data.error;
    ok(body && body.status === status, `${what}: status ${body && body.status}`);
    return body;
  }
  throw new Error(`${what}: no error`);
}

async function main() {
  // authorized_user through google-auth-library, token URL overridden;
  // user credentials are billed to a quota project: the target project,
  // as gcloud does (billing/quota_project = CURRENT_PROJECT)
  const user = JSON.parse(
      fs.readFileSync(path.join(dataDir, 'authorized_user.json')));
  const userAuth = (quotaProjectId) => {
    const a = new OAuth2Client({
      clientId: user.client_id,
      clientSecret: user.client_secret,
      endpoints: {oauth2TokenUrl: base + '/token'},
      quotaProjectId,
    });
    a.setCredentials({refresh_token: user.refresh_token});
    return a;
  };
  const auth = userAuth(project);
  const {token} = await auth.getAccessToken();
  ok(token && token.startsWith('ya29.'), 'refresh-token grant');
  const opts = {auth, rootUrl};

  // external_account (STS) through google-auth-library
  const subject = path.join(dataDir, 'subject-token');
  fs.writeFileSync(subject, 'ccaictl-emulator-subject-token');
  const ext = ExternalAccountClient.fromJSON({
    type: 'external_account',
    audience: '//iam.googleapis.com/projects/1/locations/global/' +
        'workloadIdentityPools/pool/providers/provider',
    subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
    token_url: base + '/v1/token',
    credential_source: {file: subject},
  });
  const extToken = await ext.getAccessToken();
  ok(extToken.token && extToken.token.startsWith('ya29.'), 'STS exchange');

  // 1. APIs: unknown before, enabled by an operation
  const su = google.serviceusage({version: 'v1', ...opts});
  const dfv3 = google.dialogflow({version: 'v3', ...opts});
  await expectError(
      dfv3.projects.locations.agents.list({parent}), 403,
      'PERMISSION_DENIED', 'agents.list before dialogflow is enabled');
  let op = (await su.services.batchEnable({
             parent: `projects/${project}`,
             requestBody: {
               serviceIds: [
                 'dialogflow.googleapis.com',
                 'contactcenterinsights.googleapis.com',
                 'storage.googleapis.com', 'speech.googleapis.com',
               ],
             },
           })).data;
  while (!op.done) op = (await su.operations.get({name: op.name})).data;
  ok(op.response.services.length === 4, 'batchEnable response');
  // without a quota project, user credentials use the OAuth client's
  // project, where Dialogflow is off: SERVICE_DISABLED names that consumer
  const noQuota = google.dialogflow(
      {version: 'v3', auth: userAuth(undefined), rootUrl});
  const off = await expectError(
      noQuota.projects.locations.agents.list({parent}), 403,
      'PERMISSION_DENIED', 'user credentials without a quota project');
  const info = off.details.find((d) => d.reason === 'SERVICE_DISABLED');
  const target = (await google.cloudresourcemanager({version: 'v1', ...opts})
                      .projects.get({projectId: project}))
                     .data;
  ok(info && info.metadata.consumer !==
         `projects/${target.projectNumber}`,
     'SERVICE_DISABLED names the OAuth client\'s project, not the target');
  const enabled = (await su.services.list(
                       {parent: `projects/${project}`, filter: 'state:ENABLED'}))
                      .data;
  ok(enabled.services.length === 4, 'services.list state:ENABLED');

  // 2. a service account, its key, the Dialogflow admin role
  const iam = google.iam({version: 'v1', ...opts});
  const sa = (await iam.projects.serviceAccounts.create({
               name: `projects/${project}`,
               requestBody: {
                 accountId: 'ccai-insights',
                 serviceAccount: {displayName: 'CCAI Insights'},
               },
             })).data;
  ok(sa.email === `ccai-insights@${project}.iam.gserviceaccount.com`,
     'service account email');
  await expectError(
      iam.projects.serviceAccounts.create({
        name: `projects/${project}`,
        requestBody: {accountId: 'ccai-insights'},
      }),
      409, 'ALREADY_EXISTS', 'duplicate account');
  const key = (await iam.projects.serviceAccounts.keys.create(
                   {name: sa.name, requestBody: {}}))
                  .data;
  const keyFile =
      JSON.parse(Buffer.from(key.privateKeyData, 'base64').toString());
  ok(keyFile.type === 'service_account' &&
         keyFile.private_key.startsWith('-----BEGIN PRIVATE KEY-----'),
     'key file');
  const crm = google.cloudresourcemanager({version: 'v1', ...opts});
  const policy =
      (await crm.projects.getIamPolicy({resource: project, requestBody: {}}))
          .data;
  policy.bindings.push({
    role: 'roles/dialogflow.admin',
    members: [`serviceAccount:${sa.email}`],
  });
  await crm.projects.setIamPolicy(
      {resource: project, requestBody: {policy}});
  await expectError(
      crm.projects.setIamPolicy({resource: project, requestBody: {policy}}),
      409, 'ABORTED', 'stale etag');

  // 3. security settings with the Insights export, an agent
  const ss = (await dfv3.projects.locations.securitySettings.create({
               parent,
               requestBody: {
                 displayName: 'insights-export',
                 insightsExportSettings: {enableInsightsExport: true},
               },
             })).data;
  const agent = (await dfv3.projects.locations.agents.create({
                  parent,
                  requestBody: {
                    displayName: 'Support bot',
                    defaultLanguageCode: 'en',
                    timeZone: 'Europe/Madrid',
                    securitySettings: ss.name,
                  },
                })).data;
  const patched = (await dfv3.projects.locations.agents.patch({
                    name: agent.name,
                    updateMask:
                        'advancedSettings.loggingSettings.enableInteractionLogging',
                    requestBody: {
                      advancedSettings:
                          {loggingSettings: {enableInteractionLogging: true}},
                    },
                  })).data;
  ok(patched.advancedSettings.loggingSettings.enableInteractionLogging &&
         patched.displayName === 'Support bot',
     'agent patch with a nested mask');
  op = (await dfv3.projects.locations.agents.restore({
         name: agent.name,
         requestBody: {agentUri: 'gs://bucket/sample-agent.blob'},
       })).data;
  while (!op.done)
    op = (await dfv3.projects.locations.operations.get({name: op.name})).data;
  ok(op.response['@type'] === 'type.googleapis.com/google.protobuf.Empty',
     'restore operation');
  await expectError(
      dfv3.projects.locations.agents.create({
        parent,
        requestBody: {displayName: 'x', defaultLanguageCode: 'en',
                      timeZone: 'UTC', colour: 'blue'},
      }),
      400, 'INVALID_ARGUMENT', 'unknown field');

  // use case 1: an Agent Assist conversation, completed, in Insights
  const dfv2 = google.dialogflow({version: 'v2', ...opts});
  const profile = (await dfv2.projects.locations.conversationProfiles.create({
                    parent,
                    requestBody: {
                      displayName: 'Smart reply',
                      securitySettings: ss.name,
                      humanAgentAssistantConfig: {
                        humanAgentSuggestionConfig: {
                          featureConfigs:
                              [{suggestionFeature: {type: 'SMART_REPLY'}}],
                        },
                      },
                    },
                  })).data;
  const conv = (await dfv2.projects.locations.conversations.create({
                 conversationId: 'node-conv-1',
                 parent,
                 requestBody: {conversationProfile: profile.name},
               })).data;
  const human = (await dfv2.projects.locations.conversations.participants.create(
                     {parent: conv.name, requestBody: {role: 'HUMAN_AGENT'}}))
                    .data;
  const endUser =
      (await dfv2.projects.locations.conversations.participants.create(
           {parent: conv.name, requestBody: {role: 'END_USER'}}))
          .data;
  const analysis =
      (await dfv2.projects.locations.conversations.participants.analyzeContent({
        participant: endUser.name,
        requestBody: {textInput: {text: 'where is my order', languageCode: 'en-US'}},
      })).data;
  ok(analysis.humanAgentSuggestionResults.length === 1, 'smart reply');
  await dfv2.projects.locations.conversations.participants.analyzeContent({
    participant: human.name,
    requestBody: {textInput: {text: 'checking now', languageCode: 'en-US'}},
  });
  const cci = google.contactcenterinsights({version: 'v1', ...opts});
  const id = conv.name.split('/').pop();
  await expectError(
      cci.projects.locations.conversations.get(
          {name: `${insightsParent}/conversations/${id}`}),
      404, 'NOT_FOUND', 'not in Insights before complete');
  await expectError(
      cci.projects.locations.conversations.list({parent}), 400,
      'INVALID_ARGUMENT', 'Insights has no global location');
  await dfv2.projects.locations.conversations.complete(
      {name: conv.name, requestBody: {}});
  const exported = (await cci.projects.locations.conversations.get(
                        {name: `${insightsParent}/conversations/${id}`}))
                       .data;
  ok(exported.dataSource.dialogflowSource.dialogflowConversation === conv.name,
     'use case 1 reaches Insights');
  ok(exported.transcript.transcriptSegments.length === 2, 'transcript');

  // use case 2: the agent through a profile
  const profile2 = (await dfv2.projects.locations.conversationProfiles.create({
                     parent,
                     requestBody: {
                       displayName: 'Virtual agent',
                       securitySettings: ss.name,
                       automatedAgentConfig: {agent: agent.name},
                     },
                   })).data;
  const conv2 = (await dfv2.projects.locations.conversations.create({
                  parent,
                  requestBody: {conversationProfile: profile2.name},
                })).data;
  const user2 = (await dfv2.projects.locations.conversations.participants.create(
                     {parent: conv2.name, requestBody: {role: 'END_USER'}}))
                    .data;
  const reply =
      (await dfv2.projects.locations.conversations.participants.analyzeContent({
        participant: user2.name,
        requestBody: {textInput: {text: 'hi', languageCode: 'en'}},
      })).data;
  ok(reply.automatedAgentReply && reply.replyText, 'automated agent reply');
  await dfv2.projects.locations.conversations.complete(
      {name: conv2.name, requestBody: {}});

  // use case 3: a CX session reaches Insights when it ends (its
  // sessionTtl after the last request; the emulator's clock moves there)
  await dfv3.projects.locations.agents.sessions.detectIntent({
    session: `${agent.name}/sessions/node-session-1`,
    requestBody: {
      queryInput: {text: {text: 'hello'}, languageCode: 'en'},
      queryParams: {sessionTtl: '60s'},
    },
  });
  await expectError(
      cci.projects.locations.conversations.get(
          {name: `${insightsParent}/conversations/node-session-1`}),
      404, 'NOT_FOUND', 'not in Insights before the session ends');
  const moved = await fetch(base + '/__emulator/clock',
                            {method: 'POST', body: 'advance=61s'});
  ok(moved.ok, 'clock advanced');
  const session = (await cci.projects.locations.conversations.get(
                       {name: `${insightsParent}/conversations/node-session-1`}))
                      .data;
  ok(session.turnCount === 2, 'use case 3 reaches Insights');

  // pages, through the client's own pageToken handling
  let seen = 0, pageToken;
  do {
    const page = (await cci.projects.locations.conversations.list(
                      {parent: insightsParent, pageSize: 1, pageToken}))
                     .data;
    seen += (page.conversations || []).length;
    pageToken = page.nextPageToken;
  } while (pageToken);
  ok(seen === 3, `three conversations in Insights pages (saw ${seen})`);

  // the settings singleton, with its required updateMask
  const settings = (await cci.projects.locations.updateSettings({
                     name: `${insightsParent}/settings`,
                     updateMask: 'analysisConfig.runtimeIntegrationAnalysisPercentage',
                     requestBody: {
                       analysisConfig: {runtimeIntegrationAnalysisPercentage: 100},
                     },
                   })).data;
  ok(settings.analysisConfig.runtimeIntegrationAnalysisPercentage === 100,
     'insights settings');

  console.log(`conformance: ok (${checks} checks)`);
}

main().catch((e) => {
  console.error('conformance: FAILED:', e && e.stack ? e.stack : e);
  if (e && e.response && e.response.data)
    console.error(JSON.stringify(e.response.data));
  process.exit(1);
});
