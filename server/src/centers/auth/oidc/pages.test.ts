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
