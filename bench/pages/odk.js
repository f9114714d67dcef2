// ODK Web Forms as its README says a host app uses it: the plugin, and <OdkWebForm> with a form
// that records a hazard (description, place, level, photo). Loaded from the published bundle.
import { createApp, h } from 'vue';
import { OdkWebForm, webFormsPlugin } from '/node_modules/@getodk/web-forms/dist/index.js';

const formXml = `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
  xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">
  <h:head>
    <h:title>隐患</h:title>
    <model>
      <instance>
        <data id="finding" version="1">
          <description/><place/><level/><photo/>
          <meta><instanceID/></meta>
        </data>
      </instance>
      <bind nodeset="/data/description" type="string" required="true()"/>
      <bind nodeset="/data/place" type="string"/>
      <bind nodeset="/data/level" type="string"/>
      <bind nodeset="/data/photo" type="binary"/>
      <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
    </model>
  </h:head>
  <h:body>
    <input ref="/data/description"><label>隐患描述</label></input>
    <input ref="/data/place"><label>隐患部位</label></input>
    <select1 ref="/data/level"><label>隐患等级</label>
      <item><label>一般</label><value>general</value></item>
      <item><label>重大</label><value>major</value></item>
    </select1>
    <upload ref="/data/photo" mediatype="image/*"><label>照片</label></upload>
  </h:body>
</h:html>`;

const app = createApp({
  render: () => h(OdkWebForm, {
    formXml,
    fetchFormAttachment: () => Promise.resolve(new Response('', { status: 404 })),
    onSubmit: () => {},
  }),
});
app.use(webFormsPlugin);
app.mount('#app');
