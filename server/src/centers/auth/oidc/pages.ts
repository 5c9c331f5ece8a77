/** Server-rendered interaction pages (login, step-up): plain HTML, Chinese, phone-friendly, no external assets. */

export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const STYLE = `
*{box-sizing:border-box}body{margin:0;font-family:-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f0f4f9;color:#1f2329}
main{max-width:420px;margin:0 auto;padding:24px 16px}
header{text-align:center;margin:8px 0 20px}header h1{font-size:20px;margin:0 0 6px}header p{margin:0;color:#646a73;font-size:14px}
.card{background:#fff;border-radius:12px;padding:20px;box-shadow:0 1px 4px rgba(0,0,0,.08)}
nav.tabs{display:flex;gap:4px;margin-bottom:16px;flex-wrap:wrap}nav.tabs a{flex:1 1 auto;white-space:nowrap;text-align:center;padding:10px 4px;border-radius:8px;
text-decoration:none;color:#1f2329;background:#f2f3f5;font-size:15px;min-width:70px}nav.tabs a.on{background:#0958d9;color:#fff}
label{display:block;font-size:14px;margin:12px 0 6px;color:#4e5969}
input[type=text],input[type=password],input[type=tel]{width:100%;height:46px;border:1px solid #d0d3d6;border-radius:8px;padding:0 12px;font-size:16px}
button{width:100%;height:46px;border:0;border-radius:8px;font-size:16px;margin-top:16px;background:#f2f3f5;color:#1f2329;cursor:pointer}
button.primary{background:#0958d9;color:#fff}.row{display:flex;gap:8px;align-items:flex-end}.row button{width:auto;padding:0 14px;white-space:nowrap;margin-top:0}
.error{background:#fff1f0;color:#cf1322;border-radius:8px;padding:10px 12px;font-size:14px}
.notice{background:#e6f4ff;color:#0958d9;border-radius:8px;padding:10px 12px;font-size:14px}
.muted{color:#5c6370;font-size:13px}.sandbox{display:inline-block;background:#fffbe6;color:#874d00;border:1px solid #ffe58f;border-radius:4px;padding:0 6px;font-size:12px}
.links{text-align:center;margin:16px 0 0;font-size:14px}.links a{color:#0958d9;padding:12px 4px;display:inline-block}
footer{text-align:center;margin-top:16px}footer a{color:#5c6370;font-size:13px}
.pw{position:relative}.pw input{padding-right:64px}.pw button{position:absolute;right:4px;top:4px;width:auto;height:38px;margin:0;
padding:0 12px;background:transparent;color:#0958d9;font-size:14px}
`;

/**
 * 显示/隐藏 beside each password field: on a phone keyboard a mistyped password is the commonest failed login, and
 * each failure counts towards the lockout. Without script the fields stay as they are.
 */
const PASSWORD_TOGGLE_SCRIPT = `<script>
document.querySelectorAll('input[type=password]').forEach(function(i){var w=document.createElement('div');w.className='pw';
i.parentNode.insertBefore(w,i);w.appendChild(i);var b=document.createElement('button');b.type='button';
var set=function(shown){i.type=shown?'text':'password';b.textContent=shown?'隐藏':'显示';
b.setAttribute('aria-label',(shown?'隐藏':'显示')+(i.labels&&i.labels[0]?i.labels[0].textContent:'密码'));b.setAttribute('aria-pressed',String(shown));};
set(false);b.addEventListener('click',function(){set(i.type==='password');i.focus();});w.appendChild(b);});
</script>`;

export function htmlPage(title: string, body: string, opts: { subtitle?: string; script?: string } = {}): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">
<meta name="referrer" content="no-referrer"><link rel="icon" type="image/svg+xml" href="/favicon.svg"><title>${esc(title)} · 医保统一身份认证</title><style>${STYLE}</style></head>
<body><main><header><h1>${esc(title)}</h1>${opts.subtitle ? `<p>${esc(opts.subtitle)}</p>` : ''}</header>
<div class="card">${body}</div></main>${body.includes('type="password"') ? PASSWORD_TOGGLE_SCRIPT : ''}${opts.script ?? ''}</body></html>`;
}

export interface LoginPageInput {
  uid: string;
  csrf: string;
  clientName: string;
  regionName: string;
  method: string;
  methods: Array<{ code: string; label: string }>;
  staff: boolean;
  error?: string;
  notice?: string;
  loginId?: string;
  mobile?: string;
  /** Extra panel HTML (registered login methods). */
  panel?: string;
  /** Digital-certificate login: the one-time challenge the certificate key signs. */
  certChallenge?: string;
  sandboxSms: boolean;
}

export function loginPage(p: LoginPageInput): string {
  const base = `/oidc/interaction/${esc(p.uid)}`;
  const tabs = p.methods
    .map((m) => `<a href="${base}?m=${esc(m.code)}" class="${m.code === p.method ? 'on' : ''}">${esc(m.label)}</a>`)
    .join('');
  const csrf = `<input type="hidden" name="csrf" value="${esc(p.csrf)}">`;
  let form = '';
  if (p.method === 'pwd') {
    form = `<form method="post" action="${base}/password" autocomplete="on">${csrf}
      <label for="loginId">${p.staff ? '工作人员账号' : '手机号 / 身份证号 / 用户名'}</label>
      <input type="text" id="loginId" name="loginId" value="${esc(p.loginId ?? '')}" autocomplete="username" required maxlength="64">
      <label for="password">密码</label>
      <input type="password" id="password" name="password" autocomplete="current-password" required maxlength="128">
      <button class="primary" type="submit">登录</button></form>`;
  } else if (p.method === 'sms') {
    form = `<form method="post" action="${base}/sms" autocomplete="on">${csrf}
      <label for="mobile">手机号</label>
      <div class="row"><input type="tel" id="mobile" name="mobile" value="${esc(p.mobile ?? '')}" autocomplete="tel" required maxlength="11">
      <button type="submit" formaction="${base}/sms/send" formnovalidate>获取验证码</button></div>
      <label for="code">短信验证码 ${p.sandboxSms ? '<span class="sandbox">沙箱</span>' : ''}</label>
      <input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6">
      <button class="primary" type="submit">登录</button></form>`;
  } else if (p.method === 'passkey') {
    form = `<p>使用本机的指纹、面容或设备密码登录（通行密钥）。</p>
      <button class="primary" type="button" id="passkey" data-base="${base}" data-csrf="${esc(p.csrf)}">使用通行密钥登录</button>`;
  } else if (p.method === 'cert' && p.certChallenge) {
    form = `<form method="post" action="${base}/cert">${csrf}
      <p>请插入数字证书介质，由证书助手对下面的挑战值签名（RSA / ECDSA / SM2）。</p>
      <label for="challenge">挑战值</label>
      <input type="text" id="challenge" readonly value="${esc(p.certChallenge)}" data-challenge="${esc(p.certChallenge)}">
      <label for="certificate">证书（PEM）</label>
      <textarea id="certificate" name="certificate" rows="5" style="width:100%;font-size:12px" required></textarea>
      <label for="signature">签名（Base64）</label>
      <input type="text" id="signature" name="signature" required>
      <button class="primary" type="submit">使用证书登录</button></form>`;
  } else if (p.panel) {
    form = p.panel;
  }
  return htmlPage(
    p.staff ? '工作人员登录' : '登录',
    `${tabs.length > 0 ? `<nav class="tabs">${tabs}</nav>` : ''}
    ${p.error ? `<p class="error" role="alert">${esc(p.error)}</p>` : ''}
    ${p.notice ? `<p class="notice" role="status">${esc(p.notice)}</p>` : ''}
    ${form}
    ${p.staff ? '' : '<p class="links"><a href="/personal/register">没有账号？注册</a> · <a href="/personal/password-reset">忘记密码</a></p>'}
    <footer><a href="${base}/abort">取消登录，返回应用</a></footer>`,
    {
      // staff accounts are not tied to the page's region (they choose the region they act in after logging in)
      subtitle: p.staff ? p.clientName : `${p.clientName} · ${p.regionName}`,
      script: p.method === 'passkey' ? PASSKEY_LOGIN_SCRIPT : undefined,
    },
  );
}

export interface PasswordChangePageInput {
  uid: string;
  csrf: string;
  /** Signed proof that this interaction already checked the temporary password. */
  ticket: string;
  clientName: string;
  regionName: string;
  error?: string;
  /** The password is past its age limit of that many days (else it is a temporary one). */
  expiredAfterDays?: number;
}

/** After a login with a temporary or an outworn password: the account chooses a new one before the login completes. */
export function passwordChangePage(p: PasswordChangePageInput): string {
  const base = `/oidc/interaction/${esc(p.uid)}`;
  const notice = p.expiredAfterDays
    ? `您的密码已使用超过 ${p.expiredAfterDays} 天，按安全要求请设置新密码后继续登录。`
    : '您正在使用管理员设置的临时密码，请设置新密码后继续登录。';
  return htmlPage(
    '请修改密码',
    `<p class="notice" role="status">${notice}</p>
    ${p.error ? `<p class="error" role="alert">${esc(p.error)}</p>` : ''}
    <form method="post" action="${base}/password/change">
      <input type="hidden" name="csrf" value="${esc(p.csrf)}">
      <input type="hidden" name="ticket" value="${esc(p.ticket)}">
      <label for="newPassword">新密码</label>
      <input type="password" id="newPassword" name="newPassword" autocomplete="new-password" required minlength="8" maxlength="128">
      <label for="confirmPassword">确认新密码</label>
      <input type="password" id="confirmPassword" name="confirmPassword" autocomplete="new-password" required minlength="8" maxlength="128">
      <p class="muted">至少 8 位，须包含大写字母、小写字母、数字、符号中的至少三类，且不能与${p.expiredAfterDays ? '当前' : '临时'}密码相同。</p>
      <button class="primary" type="submit">修改密码并登录</button></form>
    <footer><a href="${base}/abort">取消登录，返回应用</a></footer>`,
    { subtitle: `${p.clientName} · ${p.regionName}` },
  );
}

export interface StepUpPageInput {
  uid: string;
  csrf: string;
  clientName: string;
  mobileMasked?: string;
  hasPasskey: boolean;
  /** A staff account, whose mobile is the one it set for alerts in 我的账号. */
  staff?: boolean;
  /** What the step-up is for (the request's `step_up_for`, one of STEP_UP_FOR). */
  purpose?: string;
  error?: string;
  notice?: string;
  sandboxSms: boolean;
}

/** What a portal may say a step-up is for (`step_up_for` in the authorization request), in the page's words. */
const STEP_UP_FOR: Record<string, string> = {
  unmask: '查看个人信息明文',
  pay: '使用个人账户支付',
  passkey: '添加通行密钥',
  grant: '授权渠道使用医保电子凭证',
};
export const stepUpPurpose = (v: unknown): string | undefined =>
  typeof v === 'string' && Object.hasOwn(STEP_UP_FOR, v) ? STEP_UP_FOR[v] : undefined;

export function stepUpPage(p: StepUpPageInput): string {
  const base = `/oidc/interaction/${esc(p.uid)}`;
  const csrf = `<input type="hidden" name="csrf" value="${esc(p.csrf)}">`;
  const sms = p.mobileMasked
    ? `<form method="post" action="${base}/stepup/sms">${csrf}
      <p>验证码将发送至 ${esc(p.mobileMasked)} ${p.sandboxSms ? '<span class="sandbox">沙箱</span>' : ''}</p>
      <button type="submit" formaction="${base}/stepup/sms/send" formnovalidate>获取验证码</button>
      <label for="code">短信验证码</label>
      <input type="text" id="code" name="code" inputmode="numeric" autocomplete="one-time-code" maxlength="6" required>
      <button class="primary" type="submit">验证</button></form>`
    : p.staff
      ? '<p class="muted">该账号未设置手机号。请先在「我的账号」中设置接收提醒的手机号，或添加通行密钥。</p>'
      : '<p class="muted">该账号未绑定手机号。</p>';
  const passkey = p.hasPasskey
    ? `<button type="button" id="passkey" data-base="${base}" data-csrf="${esc(p.csrf)}">使用通行密钥验证</button>`
    : '';
  return htmlPage(
    '需要进一步验证身份',
    `<p>${p.purpose ? `${esc(p.purpose)}需要` : '此操作需要'}更高等级的身份认证（第二因素）。</p>
    ${p.error ? `<p class="error" role="alert">${esc(p.error)}</p>` : ''}
    ${p.notice ? `<p class="notice" role="status">${esc(p.notice)}</p>` : ''}
    ${sms}${passkey}
    <footer><a href="${base}/abort">取消</a></footer>`,
    { subtitle: p.clientName, script: p.hasPasskey ? PASSKEY_LOGIN_SCRIPT : undefined },
  );
}

/** Loads @simplewebauthn/browser and runs the WebAuthn ceremony against the interaction endpoints. */
const PASSKEY_LOGIN_SCRIPT = `<script src="/oidc/assets/webauthn.js"></script><script>
(function(){var b=document.getElementById('passkey');if(!b)return;b.addEventListener('click',async function(){
var base=b.dataset.base,csrf=b.dataset.csrf;b.disabled=true;try{
var o=await fetch(base+'/passkey/options',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({csrf:csrf})});
if(!o.ok)throw new Error('无法开始通行密钥验证');var opts=await o.json();
var resp=await SimpleWebAuthnBrowser.startAuthentication({optionsJSON:opts});
var r=await fetch(base+'/passkey',{method:'POST',headers:{'content-type':'application/json'},body:JSON.stringify({csrf:csrf,response:resp})});
var j=await r.json();if(!r.ok)throw new Error(j.title||'通行密钥验证失败');location.href=j.redirectTo;
}catch(e){b.disabled=false;var p=document.createElement('p');p.className='error';p.textContent=(e&&e.message)||'通行密钥验证失败';b.after(p);}});})();
</script>`;
