"""The console's words in English and Chinese. Pure."""

from __future__ import annotations

from collections.abc import Callable

LANGUAGES = ("en", "zh")

_ZH = {
    "voicebot console": "voicebot 控制台",
    "Log in": "登录",
    "Log out": "退出",
    "User name": "用户名",
    "Password": "密码",
    "Wrong user name or password.": "用户名或密码错误。",
    "Too many failed logins: wait a minute.": "登录失败次数过多，请一分钟后再试。",
    "Your session has ended: log in again.": "会话已结束，请重新登录。",
    "Status": "状态",
    "ready": "就绪",
    "paused": "暂停",
    "wrapup": "话后整理",
    "talking": "通话中",
    "offline": "离线",
    "Ready": "就绪",
    "Pause": "暂停",
    "Go offline": "下线",
    "Reason": "原因",
    "Reconnecting…": "正在重新连接…",
    "Waiting for a call.": "等待来电。",
    "Incoming call": "来电",
    "Calling back": "客户回电",
    "Inspection": "质检",
    "Inspection queue": "质检队列",
    "Complaints": "投诉",
    "Received": "受理时间",
    "Severity": "严重程度",
    "Category": "类别",
    "Against": "对象",
    "Due": "处理时限",
    "overdue": "已超时",
    "not blocked": "未拉黑",
    "Answer given": "答复内容",
    "Move": "更新",
    "Satisfaction": "满意度",
    "New complaint": "新投诉",
    "Channel": "渠道",
    "Urgent": "紧急",
    "Agent": "坐席",
    "What happened": "投诉内容",
    "Keep calling the number, because": "不拉黑号码的原因",
    "Record the complaint": "登记投诉",
    "received": "已受理",
    "investigating": "调查中",
    "answered": "已答复",
    "closed": "已结案",
    "low": "低",
    "medium": "中",
    "high": "高",
    "critical": "严重",
    "queued": "待质检",
    "scored": "已评分",
    "disputed": "申诉中",
    "settled": "已定案",
    "all": "全部",
    "Week": "周",
    "Why": "原因",
    "Score": "得分",
    "Inspector": "质检员",
    "flagged": "自动质检不合格",
    "signup": "成交",
    "sample": "抽检",
    "Disputed by": "申诉人",
    "Rule": "规则",
    "Automatic": "自动质检",
    "Points lost": "扣分",
    "manual": "人工",
    "met": "符合",
    "not met": "不符合",
    "Comment": "评语",
    "Save the score": "保存评分",
    "Why the score is wrong": "申诉理由",
    "Dispute": "申诉",
    "Sign off": "定案",
    "Nothing to inspect. Fill the queue with": "暂无待质检通话。抽检命令",
    "Download the recording": "下载录音",
    "pass": "合格",
    "fail": "不合格",
    "fatal": "一票否决",
    "Last call with the robot": "上次与机器人的通话",
    "Say first": "开场白",
    "Lead": "客户",
    "Name": "姓名",
    "Phone": "电话",
    "Grade": "等级",
    "Script path": "话术路径",
    "Transcript": "通话记录",
    "bot": "机器人",
    "callee": "客户",
    "Wrap-up": "话后处理",
    "Disposition": "处理结果",
    "sale": "成交",
    "callback": "回访",
    "not_interested": "不感兴趣",
    "wrong_person": "非本人",
    "do_not_call": "勿扰（不再拨打）",
    "no_conversation": "未能通话",
    "Callback at (callee's time)": "回访时间（客户当地时间）",
    "For": "回访人",
    "me": "我",
    "any agent": "任意坐席",
    "Confirm or correct the grade": "确认或修改等级",
    "Quote": "报价",
    "Contact": "联系人",
    "Address": "地址",
    "Notes": "备注",
    "Save wrap-up": "保存",
    "Ready after saving": "保存后就绪",
    "Campaigns": "外呼任务",
    "Agents": "坐席",
    "State": "状态",
    "Since": "持续",
    "Call": "通话",
    "Pause campaign": "暂停任务",
    "Resume campaign": "恢复任务",
    "Stop campaign": "停止任务",
    "Leads left": "剩余客户",
    "Wrap-up saved.": "已保存。",
    "Not allowed.": "无权访问。",
    "Hand-offs": "转人工",
    "Follow-ups": "待跟进",
    "Not called": "未拨出",
    "No follow-ups.": "暂无待跟进客户。",
    "Campaign": "任务",
    "Dialing": "拨号中",
    "Ringing": "振铃中",
    "Bot talking": "机器人通话",
    "Waiting for an agent": "等待坐席",
    "With an agent": "坐席通话",
    "Connect": "接通率",
    "Transfer": "转人工率",
    "Abandoned transfers": "转人工放弃率",
    "Set pacing": "设置节奏",
    "Time in state": "状态时长",
    "Calls today": "今日通话",
    "Talk today": "今日通话时长",
    "no screen": "屏幕未连接",
    "Queues": "队列",
    "Queue": "队列",
    "Agents available": "空闲坐席",
    "Logged in": "已登录",
    "Waiting": "等待",
    "Longest wait": "最长等待",
    "Queue wait": "排队时长",
    "Agent talk": "坐席通话",
}
_TABLES = {"en": {}, "zh": _ZH}


def translator(language: str) -> Callable[[str], str]:
    table = _TABLES.get(language, {})
    return lambda text: table.get(text, text)


def pick(accept_language: str) -> str:
    """The console language an Accept-Language header prefers (en when it names neither)."""
    for part in accept_language.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("zh"):
            return "zh"
        if tag.startswith("en"):
            return "en"
    return "en"


def introduction(language: str, company: str, department: str, agent: str) -> str:
    """The line an agent says first: company, department, own name (the rulebooks ask for it)."""
    if language == "zh":
        return f"您好，我是{company}{department}的{agent}，刚才是我们的智能助理和您通话，由我来为您详细介绍。"
    dept = f", {department}" if department else ""
    return (
        f"Hello, this is {agent} from {company}{dept}. "
        "Our assistant just spoke with you; I'll take it from here."
    )
