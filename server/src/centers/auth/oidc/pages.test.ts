import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loginPage } from './pages.ts';

const input = {
  uid: 'u1',
  csrf: 'c',
  clientName: '个人网上服务大厅',
  regionName: '东湖市',
  method: 'pwd',
  methods: [{ code: 'pwd', label: '密码' }],
  sandboxSms: false,
};

test('the login page for persons leads to registration and password reset; the staff one does not', () => {
  const person = loginPage({ ...input, staff: false });
  assert.match(person, /<a href="\/personal\/register">没有账号？注册<\/a>/);
  assert.match(person, /<a href="\/personal\/password-reset">忘记密码<\/a>/);
  const staff = loginPage({ ...input, staff: true });
  assert.doesNotMatch(staff, /personal\/register|password-reset/);
  assert.match(staff, /工作人员账号/);
});

test('the persons’ login page names its region; the staff one does not (staff choose their region after login)', () => {
  assert.match(loginPage({ ...input, staff: false }), /个人网上服务大厅 · 东湖市/);
  const staff = loginPage({ ...input, clientName: '定点医药机构工作站', staff: true });
  assert.match(staff, /定点医药机构工作站/);
  assert.doesNotMatch(staff, /东湖市/);
});

test('pages with a password field offer to show it; pages without one carry no such script', () => {
  assert.match(
    loginPage({ ...input, staff: false }),
    /type="password"[\s\S]*querySelectorAll\('input\[type=password\]'\)/,
  );
  const sms = loginPage({ ...input, method: 'sms', methods: [{ code: 'sms', label: '短信验证码' }], staff: false });
  assert.doesNotMatch(sms, /querySelectorAll\('input\[type=password\]'\)/);
});
