/**
 * E-voucher QR login (扫码登录) as a login method of the unified authentication center (amr 'evoucher_qr').
 * The login page's panel creates a ticket and shows its QR; the person scans it with the personal hall on the phone
 * (already signed in) and confirms; the panel sees 'confirmed' and posts the ticket to the interaction, where
 * `complete` consumes it (once) and names the person.
 */
import type { LoginMethodSlot } from './deps.ts';
import type { EvoucherService } from './service.ts';

export const QR_LOGIN_AMR = 'evoucher_qr';

const esc = (v: string) =>
  v.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function qrLoginMethod(svc: EvoucherService): LoginMethodSlot {
  return {
    amr: QR_LOGIN_AMR,
    label: '医保电子凭证扫码',
    acr: 'pwd',
    renderPanel({ uid, csrf, regionCode }) {
      const action = `/oidc/interaction/${encodeURIComponent(uid)}/method/${QR_LOGIN_AMR}`;
      return `<div class="evoucher-qr-login">
<p>请使用已登录的个人网厅（手机）扫描二维码，并在手机上确认登录。</p>
<div id="evq-img" role="img" style="width:220px;height:220px;margin:8px auto" aria-label="登录二维码"></div>
<p id="evq-state" role="status" style="text-align:center">正在生成二维码…</p>
<form id="evq-form" method="post" action="${esc(action)}">
<input type="hidden" name="csrf" value="${esc(csrf)}"><input type="hidden" name="ticketId"><input type="hidden" name="secret">
<button type="button" id="evq-refresh">刷新二维码</button></form>
<script>
(function(){var region=${JSON.stringify(regionCode)},t=null,timer=null,f=document.getElementById('evq-form'),
st=document.getElementById('evq-state'),img=document.getElementById('evq-img');
function start(){clearInterval(timer);fetch('/api/evoucher/login-tickets',{method:'POST',headers:{'x-region-code':region}})
.then(function(r){return r.json()}).then(function(d){t=d;img.innerHTML=d.qrSvg;st.textContent='请用手机扫码';
timer=setInterval(poll,1500)}).catch(function(){st.textContent='二维码生成失败，请刷新'})}
function poll(){fetch('/api/evoucher/login-tickets/'+t.ticketId+'/status?secret='+t.secret,{headers:{'x-region-code':region}})
.then(function(r){return r.json()}).then(function(d){if(d.status==='scanned')st.textContent='已扫码，请在手机上确认';
else if(d.status==='confirmed'){clearInterval(timer);st.textContent='已确认，正在登录…';f.ticketId.value=t.ticketId;
f.secret.value=t.secret;f.submit()}else if(d.status==='expired'){clearInterval(timer);st.textContent='二维码已过期，请刷新'}})}
document.getElementById('evq-refresh').onclick=start;start()})();
</script></div>`;
    },
    async complete({ regionCode, form }) {
      const ticketId = form.ticketId ?? '';
      const secret = form.secret ?? '';
      if (!/^[0-9a-f]{32}$/.test(secret)) return null;
      const personId = await svc.completeLoginTicket(regionCode, ticketId, secret);
      return personId ? { accountId: personId, kind: 'person', regionCode } : null;
    },
  };
}
